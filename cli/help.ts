/** The CLI's help: an overview and one page per command. */

export const OVERVIEW = `smb-interop: interop test harness and compatibility matrix for SMB2/SMB3

Usage: smb-interop <command> [options]        smb-interop help <command>

Commands:
  run          run the scenario suite against the selected targets; writes results/<run-id>/
               (matrix.json, index.html, summary.md, junit.xml) and fails on failed,
               unexpected-pass or infra-error cells
  repro        rerun one cell (target x scenario x client) with full traces
  scenarios    list the scenarios with their requirements
  targets      list the server profiles (built-in and from the config file)
  report       render a run's reports again from its matrix.json
  compare      compare two runs; fails on regressions
  merge        merge sharded runs (or Playwright blob reports) into one run
  verify       start each native target and check with smbclient that it negotiates what it declares
  serve        start one native target and keep it running until Ctrl-C

Common options:
  --config FILE     config file (default: smb-interop.config.{ts,mts,js,mjs,json} here)
  --results DIR     results directory (default: results/ in the project)
  -h, --help        help (on a command: that command's help)
`;

export const COMMAND_HELP: Readonly<Record<string, string>> = {
  run: `Usage: smb-interop run [options]

Runs every selected scenario x target x client cell with Playwright Test, writes
results/<run-id>/ and prints where index.html and summary.md are. Exits 1 when a cell is
failed, unexpected-pass or infra-error (infra-error allowed with --allow-infra-errors), 2 on a
usage mistake.

Options:
  --targets A,B         targets by name or glob; without @ a pattern matches the profile
                        (smb311-*, smb302-ccm@native)
  --scenarios A,B       scenario ids or globs (files/*, negotiate/dialect)
  --clients A,B         clients to run (default: every registered one: smb-ts, smbclient,
                        go-smb2, impacket and the config's clients)
  --provider P          native | container | remote | all (default: native, and remote
                        targets the config names)
  --repeat N            run every cell N times (flaky cells show their pass rate)
  --trace MODE          on | off | retain-on-failure (default retain-on-failure): captures and transcripts
  --workers N           parallel workers
  --shard I/N           run shard I of N (CI); merge the shards with \`smb-interop merge\`
  --allow-infra-errors  infra-error cells do not fail the run
  --results DIR         results directory
  --id ID               run id (default: the start time, e.g. 2026-11-25T07-30-12Z)
  --scenarios-dir DIR   run the scenarios in DIR instead of harness/scenarios (or
                        SMB_INTEROP_SCENARIOS_DIR); DIR must load as ES modules (inside
                        this project, or with a package.json of "type": "module")
`,
  repro: `Usage: smb-interop repro TARGET SCENARIO [--client ID]

Reruns one cell with --trace on and prints its traces: the capture, the Wireshark key file, the
decrypted transcript, the server log, and the Wireshark command that opens the capture decrypted.
TARGET is a target (smb302-ccm@native) or a profile (smb302-ccm: its native target).

Options:
  --client ID           the client (default smb-ts)
  --results DIR         results directory
  --scenarios-dir DIR   the scenario directory the cell comes from (default harness/scenarios)
`,
  scenarios: `Usage: smb-interop scenarios [--provider P] [--clients A,B] [--json] [--scenarios-dir DIR]

Lists every scenario: id, requirements, clients and title (read from the suite with
playwright test --list).
`,
  targets: `Usage: smb-interop targets [--targets A,B] [--config FILE]

Lists the server profiles with what each declares.
`,
  report: `Usage: smb-interop report RUN [--results DIR]

Renders index.html, summary.md and junit.xml of RUN (a run id under results/ or a run directory)
from its matrix.json, and the results directory's index.html (the list of runs).
`,
  compare: `Usage: smb-interop compare BASELINE CURRENT [--results DIR]

Prints regressions, fixes, new and removed cells between two runs (run ids, run directories or
matrix.json files). Exits 1 when there is a regression: a cell not failing before that now fails
or unexpectedly passes.
`,
  merge: `Usage: smb-interop merge INPUT... [--id ID] [--results DIR] [--allow-infra-errors]

Merges shard runs (run directories or their matrix.json files) into results/<ID>/ with their
traces, or one directory of Playwright blob reports (replayed through the matrix reporter), then
renders the reports. Exits like \`run\`.
`,
  verify: `Usage: smb-interop verify [--targets A,B] [--config FILE]

Starts every selected native target, verifies with Samba's smbclient that it negotiates what its
profile declares (as the server reports it), and stops it.
`,
  serve: `Usage: smb-interop serve PROFILE [--json] [--config FILE]

Starts one native target and keeps it running until Ctrl-C; prints where it listens and the file
holding its throwaway credentials.
`,
};
