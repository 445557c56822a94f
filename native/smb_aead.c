/*
 * AES-GCM and AES-CCM for SMB 3 message encryption into given memory, over the OpenSSL that
 * Node itself links (its EVP symbols, through Node's own headers). node:crypto returns every
 * update in new, zero-filled memory and copies it once more inside; decrypting a received READ
 * in place, and encrypting a message into a reused send buffer, instead saves that memory, its
 * page faults and two copies per byte. Optional: the client uses node:crypto when this is not
 * built (clients/smb/crypto/native.ts).
 */
#include <node_api.h>
#include <openssl/evp.h>
#include <stdio.h>

#define TAG_BYTES 16

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, "ERR_SMB_NATIVE_AEAD", message);
  return NULL;
}

/* A Buffer or other Uint8Array argument: its bytes and length. */
static int bytes_of(napi_env env, napi_value value, unsigned char **data, size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  void *raw = NULL;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, &buffer, &offset) != napi_ok) return 0;
  if (type != napi_uint8_array) return 0;
  *data = (unsigned char *)raw;
  return 1;
}

static const EVP_CIPHER *gcm_for(size_t key_length) {
  if (key_length == 16) return EVP_aes_128_gcm();
  if (key_length == 32) return EVP_aes_256_gcm();
  return NULL;
}

static const EVP_CIPHER *ccm_for(size_t key_length) {
  if (key_length == 16) return EVP_aes_128_ccm();
  if (key_length == 32) return EVP_aes_256_ccm();
  return NULL;
}

static void free_context(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  EVP_CIPHER_CTX_free((EVP_CIPHER_CTX *)data);
}

/* gcmDecipher(key, nonce12, aad): a context for gcmUpdate/gcmFinal. */
static napi_value gcm_decipher(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  unsigned char *key, *nonce, *aad;
  size_t key_length, nonce_length, aad_length;
  if (argc != 3 || !bytes_of(env, argv[0], &key, &key_length) || !bytes_of(env, argv[1], &nonce, &nonce_length) ||
      !bytes_of(env, argv[2], &aad, &aad_length)) {
    return throw_error(env, "gcmDecipher(key, nonce, aad) takes three Uint8Arrays");
  }
  const EVP_CIPHER *cipher = gcm_for(key_length);
  if (cipher == NULL || nonce_length != 12) return throw_error(env, "gcmDecipher: a 16- or 32-byte key and a 12-byte nonce");
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int written = 0;
  if (ctx == NULL || EVP_DecryptInit_ex(ctx, cipher, NULL, key, nonce) != 1 ||
      (aad_length > 0 && EVP_DecryptUpdate(ctx, NULL, &written, aad, (int)aad_length) != 1)) {
    EVP_CIPHER_CTX_free(ctx);
    return throw_error(env, "gcmDecipher: OpenSSL refused the key or nonce");
  }
  napi_value handle;
  if (napi_create_external(env, ctx, free_context, NULL, &handle) != napi_ok) {
    EVP_CIPHER_CTX_free(ctx);
    return throw_error(env, "gcmDecipher: out of memory");
  }
  return handle;
}

/* The arguments (context, bytes) of gcmUpdate and gcmFinal: the context, or NULL when they are not that. */
static EVP_CIPHER_CTX *context_and_bytes(napi_env env, napi_callback_info info, unsigned char **data, size_t *length) {
  size_t argc = 2;
  napi_value argv[2];
  void *ctx = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      napi_get_value_external(env, argv[0], &ctx) != napi_ok || !bytes_of(env, argv[1], data, length)) {
    return NULL;
  }
  return (EVP_CIPHER_CTX *)ctx;
}

/* gcmUpdate(context, bytes): decrypts bytes where they are. */
static napi_value gcm_update(napi_env env, napi_callback_info info) {
  unsigned char *data;
  size_t length;
  EVP_CIPHER_CTX *ctx = context_and_bytes(env, info, &data, &length);
  if (ctx == NULL) return throw_error(env, "gcmUpdate(context, bytes)");
  while (length > 0) {
    int piece = length > (1u << 30) ? (1 << 30) : (int)length;
    int written = 0;
    if (EVP_DecryptUpdate(ctx, data, &written, data, piece) != 1 || written != piece) return throw_error(env, "gcmUpdate: OpenSSL failed");
    data += piece;
    length -= (size_t)piece;
  }
  return NULL;
}

/* gcmFinal(context, tag16): whether the tag matches. */
static napi_value gcm_final(napi_env env, napi_callback_info info) {
  unsigned char *tag;
  size_t tag_length;
  EVP_CIPHER_CTX *ctx = context_and_bytes(env, info, &tag, &tag_length);
  if (ctx == NULL || tag_length != TAG_BYTES) return throw_error(env, "gcmFinal(context, tag16)");
  unsigned char scratch[16];
  int written = 0;
  int ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tag) == 1 && EVP_DecryptFinal_ex(ctx, scratch, &written) == 1;
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

/* The checked arguments (key, nonce11, aad, bytes, tag16) of ccmDecrypt and ccmEncrypt. */
struct ccm_call {
  const EVP_CIPHER *cipher;
  unsigned char *key, *nonce, *aad, *data, *tag;
  size_t aad_length, length;
};

/* Reads and checks them; 0 after throwing an error that names `name`. */
static int ccm_arguments(napi_env env, napi_callback_info info, const char *name, struct ccm_call *call) {
  size_t argc = 5;
  napi_value argv[5];
  char message[160];
  size_t key_length, nonce_length, tag_length;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 5 || !bytes_of(env, argv[0], &call->key, &key_length) || !bytes_of(env, argv[1], &call->nonce, &nonce_length) ||
      !bytes_of(env, argv[2], &call->aad, &call->aad_length) || !bytes_of(env, argv[3], &call->data, &call->length) ||
      !bytes_of(env, argv[4], &call->tag, &tag_length)) {
    snprintf(message, sizeof message, "%s(key, nonce, aad, bytes, tag) takes five Uint8Arrays", name);
    throw_error(env, message);
    return 0;
  }
  call->cipher = ccm_for(key_length);
  if (call->cipher == NULL || nonce_length != 11 || tag_length != TAG_BYTES || call->length > (size_t)0x7fffffff || call->aad_length > (size_t)0x7fffffff) {
    snprintf(message, sizeof message, "%s: a 16- or 32-byte key, an 11-byte nonce, a 16-byte tag, less than 2 GiB", name);
    throw_error(env, message);
    return 0;
  }
  return 1;
}

/*
 * ccmDecrypt(key, nonce11, aad, bytes, tag16): decrypts bytes where they are; whether the tag
 * matches (when it does not, the bytes are not plaintext and must not be used).
 */
static napi_value ccm_decrypt(napi_env env, napi_callback_info info) {
  struct ccm_call c;
  if (!ccm_arguments(env, info, "ccmDecrypt", &c)) return NULL;
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL) return throw_error(env, "ccmDecrypt: out of memory");
  int written = 0;
  int ready = EVP_DecryptInit_ex(ctx, c.cipher, NULL, NULL, NULL) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_IVLEN, 11, NULL) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_TAG, TAG_BYTES, c.tag) == 1 &&
              EVP_DecryptInit_ex(ctx, NULL, NULL, c.key, c.nonce) == 1 &&
              EVP_DecryptUpdate(ctx, NULL, &written, NULL, (int)c.length) == 1 &&
              (c.aad_length == 0 || EVP_DecryptUpdate(ctx, NULL, &written, c.aad, (int)c.aad_length) == 1);
  if (!ready) {
    EVP_CIPHER_CTX_free(ctx);
    return throw_error(env, "ccmDecrypt: OpenSSL refused the key or nonce");
  }
  /* CCM checks the tag in this one update: it fails when the tag does not match. */
  int ok = EVP_DecryptUpdate(ctx, c.data, &written, c.data, (int)c.length) == 1;
  EVP_CIPHER_CTX_free(ctx);
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

/* Encrypts `length` bytes from `in` to `out` (which may be `in`), in updates under 2 GiB. */
static int encrypt_update(EVP_CIPHER_CTX *ctx, unsigned char *out, const unsigned char *in, size_t length) {
  while (length > 0) {
    int piece = length > (1u << 30) ? (1 << 30) : (int)length;
    int written = 0;
    if (EVP_EncryptUpdate(ctx, out, &written, in, piece) != 1 || written != piece) return 0;
    in += piece;
    out += piece;
    length -= (size_t)piece;
  }
  return 1;
}

/*
 * gcmEncrypt(key, nonce12, aad, parts, out, tag16): encrypts the concatenation of `parts` (an
 * array of Uint8Arrays) into `out`, exactly as long, and writes the tag into `tag`. A part may
 * be `out`'s own bytes at the same place (in place), not elsewhere in it.
 */
static napi_value gcm_encrypt(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  unsigned char *key, *nonce, *aad, *out, *tag;
  size_t key_length, nonce_length, aad_length, out_length, tag_length;
  bool is_array = false;
  uint32_t count = 0;
  if (argc != 6 || !bytes_of(env, argv[0], &key, &key_length) || !bytes_of(env, argv[1], &nonce, &nonce_length) ||
      !bytes_of(env, argv[2], &aad, &aad_length) || napi_is_array(env, argv[3], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[3], &count) != napi_ok || !bytes_of(env, argv[4], &out, &out_length) ||
      !bytes_of(env, argv[5], &tag, &tag_length)) {
    return throw_error(env, "gcmEncrypt(key, nonce, aad, parts, out, tag) takes Uint8Arrays and an array of them");
  }
  const EVP_CIPHER *cipher = gcm_for(key_length);
  if (cipher == NULL || nonce_length != 12 || tag_length != TAG_BYTES || aad_length > (size_t)0x7fffffff) {
    return throw_error(env, "gcmEncrypt: a 16- or 32-byte key, a 12-byte nonce and a 16-byte tag");
  }
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int written = 0;
  if (ctx == NULL || EVP_EncryptInit_ex(ctx, cipher, NULL, key, nonce) != 1 ||
      (aad_length > 0 && EVP_EncryptUpdate(ctx, NULL, &written, aad, (int)aad_length) != 1)) {
    EVP_CIPHER_CTX_free(ctx);
    return throw_error(env, "gcmEncrypt: OpenSSL refused the key or nonce");
  }
  size_t at = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    unsigned char *part;
    size_t part_length;
    if (napi_get_element(env, argv[3], i, &element) != napi_ok || !bytes_of(env, element, &part, &part_length)) {
      EVP_CIPHER_CTX_free(ctx);
      return throw_error(env, "gcmEncrypt: every part must be a Uint8Array");
    }
    if (part_length > out_length - at) {
      EVP_CIPHER_CTX_free(ctx);
      return throw_error(env, "gcmEncrypt: the parts are longer than out");
    }
    if (part != out + at && part < out + out_length && out < part + part_length) {
      EVP_CIPHER_CTX_free(ctx);
      return throw_error(env, "gcmEncrypt: a part overlaps out at another place");
    }
    if (!encrypt_update(ctx, out + at, part, part_length)) {
      EVP_CIPHER_CTX_free(ctx);
      return throw_error(env, "gcmEncrypt: OpenSSL failed");
    }
    at += part_length;
  }
  unsigned char scratch[16];
  int ok = at == out_length && EVP_EncryptFinal_ex(ctx, scratch, &written) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return throw_error(env, at == out_length ? "gcmEncrypt: OpenSSL failed" : "gcmEncrypt: the parts are shorter than out");
  return NULL;
}

/* ccmEncrypt(key, nonce11, aad, bytes, tag16): encrypts bytes where they are and writes the tag. */
static napi_value ccm_encrypt(napi_env env, napi_callback_info info) {
  struct ccm_call c;
  if (!ccm_arguments(env, info, "ccmEncrypt", &c)) return NULL;
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL) return throw_error(env, "ccmEncrypt: out of memory");
  int written = 0;
  unsigned char scratch[16];
  /* CCM takes the message in one update, after its length and the AAD. */
  int ok = EVP_EncryptInit_ex(ctx, c.cipher, NULL, NULL, NULL) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_IVLEN, 11, NULL) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_TAG, TAG_BYTES, NULL) == 1 &&
           EVP_EncryptInit_ex(ctx, NULL, NULL, c.key, c.nonce) == 1 &&
           EVP_EncryptUpdate(ctx, NULL, &written, NULL, (int)c.length) == 1 &&
           (c.aad_length == 0 || EVP_EncryptUpdate(ctx, NULL, &written, c.aad, (int)c.aad_length) == 1) &&
           EVP_EncryptUpdate(ctx, c.data, &written, c.data, (int)c.length) == 1 && written == (int)c.length &&
           EVP_EncryptFinal_ex(ctx, scratch, &written) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_GET_TAG, TAG_BYTES, c.tag) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return throw_error(env, "ccmEncrypt: OpenSSL failed");
  return NULL;
}

#define EXPORT(name, fn)                                                   \
  do {                                                                     \
    napi_value f;                                                          \
    if (napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f) != napi_ok || \
        napi_set_named_property(env, exports, name, f) != napi_ok)         \
      return NULL;                                                         \
  } while (0)

static napi_value init(napi_env env, napi_value exports) {
  EXPORT("gcmDecipher", gcm_decipher);
  EXPORT("gcmUpdate", gcm_update);
  EXPORT("gcmFinal", gcm_final);
  EXPORT("ccmDecrypt", ccm_decrypt);
  EXPORT("gcmEncrypt", gcm_encrypt);
  EXPORT("ccmEncrypt", ccm_encrypt);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
