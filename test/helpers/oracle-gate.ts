// Whether the external oracle programs a test needs (tshark, SIPp, GStreamer's libgstsdp) are
// installed. Without them the test is skipped with one visible line naming the missing tool and
// the install command; with CI set their absence fails the test file instead (CI installs them
// through test/oracles/install-deps, so a missing tool there is a broken CI, not a skip).
import { spawnSync } from 'node:child_process';

export type OracleTool = 'tshark' | 'sipp' | 'gstreamer' | 'msgpack-c';

const INSTALL = 'sudo test/oracles/install-deps';
/** What each tool is, with its Debian packages, for the skip line. */
const LABEL: Record<OracleTool, string> = {
  tshark: 'tshark (Debian tshark)',
  sipp: 'sipp (Debian sip-tester)',
  gstreamer: "GStreamer's libgstsdp and a C compiler (Debian libgstreamer-plugins-base1.0-0, g++)",
  'msgpack-c': 'msgpack-c and a C compiler (Debian libmsgpack-dev, g++)',
};

const found = new Map<OracleTool, boolean>();
function present(tool: OracleTool): boolean {
  let ok = found.get(tool);
  if (ok === undefined) {
    const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { stdio: 'ignore', timeout: 30_000 }).status === 0;
    if (tool === 'tshark') ok = sh('tshark --version');
    else if (tool === 'sipp') ok = sh('command -v sipp');
    else if (tool === 'msgpack-c') ok = sh('test -f /usr/include/msgpack.h && ldconfig -p | grep -q "libmsgpackc.so" && { command -v cc || command -v gcc; }');
    else ok = sh('ldconfig -p | grep -q "libgstsdp-1.0.so.0" && { command -v cc || command -v gcc || command -v g++; }');
    found.set(tool, ok);
  }
  return ok;
}

const warned = new Set<string>();

/**
 * True when every tool is installed. Otherwise: with CI set, throws (the test file fails); without
 * it, prints one line "oracle skipped: WHAT needs TOOL (Debian PACKAGE); install with: …" and
 * returns false, for `describe.runIf` / `it.runIf`.
 */
export function oracleTools(tools: readonly OracleTool[], what: string): boolean {
  const missing = tools.filter((t) => !present(t));
  if (!missing.length) return true;
  const names = missing.map((t) => LABEL[t]).join(', ');
  if (process.env.CI) throw new Error(`CI: ${what} needs ${names}, which is not installed; install with: ${INSTALL}`);
  const line = `oracle skipped: ${what} needs ${names}; install with: ${INSTALL}`;
  if (!warned.has(line)) {
    warned.add(line);
    console.warn(line);
  }
  return false;
}
