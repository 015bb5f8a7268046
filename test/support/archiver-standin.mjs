/* global process, setInterval */
// Stand-in archiver for the failover harness (plain JS: starts in tens of ms). Started by an agent's start hook, it
// appends a 10 Hz sample line {"node","t","seq"} to $STANDIN_OUT while it may act, and fences itself like a real
// service should: before every sample it checks that its agent is alive (a crashed node takes its services with
// it) and that the agent's watchdog file still grants it time; otherwise it exits without writing.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';

const node = process.env.PVSYNC_NODE ?? 'unknown';
const out = process.env.STANDIN_OUT;
const watchdog = process.env.PVSYNC_WATCHDOG_FILE;
const agentPid = Number(process.env.PVSYNC_AGENT_PID);
const pidFile = process.env.STANDIN_PID_FILE;
if (out === undefined || watchdog === undefined || !(agentPid > 0)) {
  process.stderr.write('standin: STANDIN_OUT, PVSYNC_WATCHDOG_FILE and PVSYNC_AGENT_PID are required\n');
  process.exit(2);
}
if (pidFile !== undefined) writeFileSync(pidFile, String(process.pid));

function mayAct() {
  try {
    process.kill(agentPid, 0);
  } catch {
    return 'agent gone';
  }
  try {
    const w = JSON.parse(readFileSync(watchdog, 'utf8'));
    if (!(typeof w.validUntil === 'number' && Date.now() < w.validUntil)) return 'watchdog expired';
  } catch {
    return 'no watchdog';
  }
  return null;
}

let seq = 0;
function tick() {
  const why = mayAct();
  if (why !== null) {
    process.stderr.write(`standin ${node}: stopping (${why})\n`);
    process.exit(0);
  }
  appendFileSync(out, JSON.stringify({ node, t: Date.now(), seq: seq++ }) + '\n');
}
process.on('SIGTERM', () => process.exit(0));
tick();
setInterval(tick, 100);
