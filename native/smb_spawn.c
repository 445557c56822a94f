/*
 * Starting a program with posix_spawn. Node's child_process forks the whole calling process:
 * the kernel copies the page tables of a large harness worker (hundreds of MB) for every client
 * process it starts, the child then throws that copy away at exec, and the caller's thread waits
 * for both. glibc's posix_spawn starts the child in the caller's memory (CLONE_VM | CLONE_VFORK)
 * and copies nothing, so a start costs the same from a 400 MB process as from a small one.
 * Optional: servers/spawn.ts uses child_process when this is not built.
 *
 * spawn(file, argv, envp, cwd, stdio, newSession) -> [pid, fd0, fd1, fd2] | -errno
 *   stdio[i]: 0 a pipe (the caller gets its end, close-on-exec), 1 /dev/null, 2 inherited.
 *   newSession: the child leads a session and process group of its own (setsid).
 * waitpid(pid) -> undefined while it runs | [code, signal] once reaped (one of them -1) | -errno
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define STDIO_PIPE 0
#define STDIO_IGNORE 1
#define STDIO_INHERIT 2

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, "ERR_SMB_NATIVE_SPAWN", message);
  return NULL;
}

static napi_value number(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

/* A string argument, copied into fresh memory the caller frees; NULL when it is not a string. */
static char *string_of(napi_env env, napi_value value) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return NULL;
  char *text = malloc(length + 1);
  if (text == NULL) return NULL;
  napi_get_value_string_utf8(env, value, text, length + 1, &length);
  return text;
}

static void free_strings(char **strings) {
  if (strings == NULL) return;
  for (char **s = strings; *s != NULL; s++) free(*s);
  free(strings);
}

/* An array of strings as a NULL-terminated vector; NULL when it is not one. */
static char **strings_of(napi_env env, napi_value value) {
  bool is_array = false;
  uint32_t length = 0;
  if (napi_is_array(env, value, &is_array) != napi_ok || !is_array) return NULL;
  napi_get_array_length(env, value, &length);
  char **strings = calloc((size_t)length + 1, sizeof(char *));
  if (strings == NULL) return NULL;
  for (uint32_t i = 0; i < length; i++) {
    napi_value element;
    napi_get_element(env, value, i, &element);
    strings[i] = string_of(env, element);
    if (strings[i] == NULL) {
      free_strings(strings);
      return NULL;
    }
  }
  return strings;
}

static napi_value spawn_process(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value args[6];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (argc != 6) return throw_error(env, "spawn(file, argv, envp, cwd, stdio, newSession)");
  napi_valuetype cwd_type;
  napi_typeof(env, args[3], &cwd_type);
  int modes[3];
  for (uint32_t i = 0; i < 3; i++) {
    napi_value element;
    int32_t mode = -1;
    if (napi_get_element(env, args[4], i, &element) != napi_ok || napi_get_value_int32(env, element, &mode) != napi_ok ||
        mode < STDIO_PIPE || mode > STDIO_INHERIT) {
      return throw_error(env, "spawn: stdio must be three modes (0 pipe, 1 ignore, 2 inherit)");
    }
    modes[i] = mode;
  }
  bool new_session = false;
  napi_get_value_bool(env, args[5], &new_session);

  char *file = string_of(env, args[0]);
  char **argv = strings_of(env, args[1]);
  char **envp = strings_of(env, args[2]);
  char *cwd = cwd_type == napi_string ? string_of(env, args[3]) : NULL;
  int failure = 0;
  if (file == NULL || argv == NULL || envp == NULL || (cwd_type == napi_string && cwd == NULL)) failure = EINVAL;

  /* pipes[i]: [read end, write end]; the child's end is the read end of stdin and the write end of the others. */
  int pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
  for (int i = 0; i < 3 && failure == 0; i++) {
    if (modes[i] == STDIO_PIPE && pipe2(pipes[i], O_CLOEXEC) != 0) failure = errno;
  }

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  int actions_ready = 0, attributes_ready = 0;
  if (failure == 0) failure = posix_spawn_file_actions_init(&actions);
  if (failure == 0) actions_ready = 1;
  for (int i = 0; i < 3 && failure == 0; i++) {
    if (modes[i] == STDIO_PIPE) failure = posix_spawn_file_actions_adddup2(&actions, pipes[i][i == 0 ? 0 : 1], i);
    else if (modes[i] == STDIO_IGNORE) failure = posix_spawn_file_actions_addopen(&actions, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0);
  }
  if (failure == 0 && cwd != NULL) failure = posix_spawn_file_actions_addchdir_np(&actions, cwd);
  if (failure == 0) failure = posix_spawnattr_init(&attributes);
  if (failure == 0) attributes_ready = 1;
  if (failure == 0) {
    /* As child_process does: no blocked signals, and every signal's handling back to its default
       (Node ignores SIGPIPE, and an ignored signal stays ignored across exec). */
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (new_session) flags |= POSIX_SPAWN_SETSID;
    failure = posix_spawnattr_setsigmask(&attributes, &none);
    if (failure == 0) failure = posix_spawnattr_setsigdefault(&attributes, &all);
    if (failure == 0) failure = posix_spawnattr_setflags(&attributes, flags);
  }
  pid_t pid = -1;
  if (failure == 0) failure = posix_spawn(&pid, file, &actions, &attributes, argv, envp);

  if (actions_ready) posix_spawn_file_actions_destroy(&actions);
  if (attributes_ready) posix_spawnattr_destroy(&attributes);
  free(file);
  free_strings(argv);
  free_strings(envp);
  free(cwd);

  int ends[3] = {-1, -1, -1};
  for (int i = 0; i < 3; i++) {
    if (pipes[i][0] < 0) continue;
    int child_end = i == 0 ? 0 : 1;
    close(pipes[i][child_end]);
    if (failure == 0) ends[i] = pipes[i][1 - child_end];
    else close(pipes[i][1 - child_end]);
  }
  if (failure != 0) return number(env, -failure);
  napi_value result;
  napi_create_array_with_length(env, 4, &result);
  napi_set_element(env, result, 0, number(env, pid));
  for (uint32_t i = 0; i < 3; i++) napi_set_element(env, result, i + 1, number(env, ends[i]));
  return result;
}

static napi_value wait_process(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t pid = 0;
  if (argc != 1 || napi_get_value_int32(env, args[0], &pid) != napi_ok || pid <= 0) return throw_error(env, "waitpid(pid)");
  int status = 0;
  pid_t reaped;
  do reaped = waitpid(pid, &status, WNOHANG);
  while (reaped < 0 && errno == EINTR);
  if (reaped < 0) return number(env, -errno);
  napi_value result;
  if (reaped == 0) {
    napi_get_undefined(env, &result);
    return result;
  }
  napi_create_array_with_length(env, 2, &result);
  napi_set_element(env, result, 0, number(env, WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  napi_set_element(env, result, 1, number(env, WIFSIGNALED(status) ? WTERMSIG(status) : -1));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"spawn", NULL, spawn_process, NULL, NULL, NULL, napi_default, NULL},
      {"waitpid", NULL, wait_process, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(functions) / sizeof(functions[0]), functions);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
