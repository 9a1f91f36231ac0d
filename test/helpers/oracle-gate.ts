// Whether the external programs a test needs (tshark, text2pcap, SIPp, GStreamer's libgstsdp and
// its srtpenc/srtpdec, msgpack-c, libsrtp2, valgrind) are installed. Without them the test is skipped with one visible line naming the missing tool and
// the install command; with CI set their absence fails the test file instead (CI installs them
// through test/oracles/install-deps, so a missing tool there is a broken CI, not a skip).
import { spawnSync } from 'node:child_process';

export type OracleTool = 'tshark' | 'text2pcap' | 'sipp' | 'gstreamer' | 'gst-srtp' | 'msgpack-c' | 'libsrtp2' | 'valgrind';

const INSTALL = 'sudo test/oracles/install-deps';
/** What each tool is, with its Debian packages, for the skip line. */
const LABEL: Record<OracleTool, string> = {
  tshark: 'tshark (Debian tshark)',
  sipp: 'sipp (Debian sip-tester)',
  gstreamer: "GStreamer's libgstsdp and a C compiler (Debian libgstreamer-plugins-base1.0-0, g++)",
  'msgpack-c': 'msgpack-c and a C compiler (Debian libmsgpack-dev, g++)',
  text2pcap: 'text2pcap (Debian wireshark-common, with tshark)',
  'gst-srtp': 'gst-launch-1.0 with srtpenc/srtpdec (Debian gstreamer1.0-tools, gstreamer1.0-plugins-bad)',
  libsrtp2: 'libsrtp2 headers (Debian libsrtp2-dev)',
  valgrind: 'valgrind (Debian valgrind)',
};

const found = new Map<OracleTool, boolean>();
function present(tool: OracleTool): boolean {
  let ok = found.get(tool);
  if (ok === undefined) {
    const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { stdio: 'ignore', timeout: 30_000 }).status === 0;
    if (tool === 'tshark') ok = sh('tshark --version');
    else if (tool === 'sipp') ok = sh('command -v sipp');
    else if (tool === 'text2pcap') ok = sh('command -v text2pcap');
    else if (tool === 'gst-srtp') ok = sh('gst-launch-1.0 --version && gst-inspect-1.0 srtpenc && gst-inspect-1.0 srtpdec');
    else if (tool === 'libsrtp2') ok = sh('test -f /usr/include/srtp2/srtp.h');
    else if (tool === 'valgrind') ok = sh('valgrind --version');
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
