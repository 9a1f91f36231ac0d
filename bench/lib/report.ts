// Shared benchmark reporting: a description of the machine (CPU model, cores, RAM, Node, OS) and
// writing results as bench/results/<name>-<YYYY-MM-DD>.json (the rows, as given) plus a .md file
// (title, machine, then the caller's Markdown). Every bench in bench/ uses this, so result files
// look the same and always say where they were measured.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MachineInfo {
  cpu: string;
  cores: number;
  ramGiB: number;
  node: string;
  os: string;
  arch: string;
}

/** The repository root: the nearest directory above this file that holds package.json (so the
 * compiled benches under build-bench/ write to the same place as the sources would). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('bench: cannot find the repository root (package.json)');
    dir = up;
  }
  return dir;
}

/** Directory the results go to: bench/results of the repository. */
export const RESULTS_DIR = path.join(repoRoot(), 'bench', 'results');

function osName(): string {
  try {
    const rel = readFileSync('/etc/os-release', 'utf8');
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(rel);
    if (m?.[1]) return `${m[1]} (${os.type()} ${os.release()})`;
  } catch {
    // not Linux, or no os-release: fall through
  }
  return `${os.type()} ${os.release()}`;
}

export function describeMachine(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() || 'unknown CPU',
    cores: cpus.length,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: osName(),
    arch: process.arch,
  };
}

/** The machine as a Markdown bullet list. */
export function machineMarkdown(m: MachineInfo = describeMachine()): string {
  return [
    `- CPU: ${m.cpu} (${m.cores} logical cores, ${m.arch})`,
    `- RAM: ${m.ramGiB} GiB`,
    `- Node: ${m.node}`,
    `- OS: ${m.os}`,
    `- Load average (1/5/15 min) when the results were written: ${os
      .loadavg()
      .map((v) => v.toFixed(2))
      .join(' / ')} (a shared machine inflates every number)`,
  ].join('\n');
}

/** A figure rounded to 3 decimals, as the results files print them. */
export function r3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** UTC date as YYYY-MM-DD. */
export function today(d = new Date()): string {
  return d.toISOString().slice(0, 10);
}

/**
 * Writes <dir>/<name>-<date>.json (rows, pretty-printed) and <dir>/<name>-<date>.md (a title,
 * the machine description, then `markdown`). Returns both paths.
 */
export function writeResults(
  name: string,
  rows: readonly object[] | object,
  markdown: string,
  opts: { dir?: string; date?: string } = {},
): { json: string; md: string } {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`bad results name ${JSON.stringify(name)}`);
  const dir = opts.dir ?? RESULTS_DIR;
  const date = opts.date ?? today();
  mkdirSync(dir, { recursive: true });
  const json = path.join(dir, `${name}-${date}.json`);
  const md = path.join(dir, `${name}-${date}.md`);
  writeFileSync(json, JSON.stringify(rows, null, 2) + '\n');
  const doc = [`# ${name} benchmark, ${date}`, '', '## Machine', '', machineMarkdown(), '', markdown.trim(), ''].join('\n');
  writeFileSync(md, doc);
  return { json, md };
}
