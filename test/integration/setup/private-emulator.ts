// A BigQuery emulator of a test's own (the same bqemulator build and launcher `make up`
// uses), on free ports with a temporary data directory: for tests that restart or stop the
// emulator, which must not disturb the shared one.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const TOOLS = join(ROOT, '.stack', 'tools');

/** A port nobody listens on now (for a process the test starts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class PrivateEmulator {
  private child: ChildProcess | undefined;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'xp-bq-'));
  restPort = 0;
  grpcPort = 0;
  log = '';

  constructor(readonly project = 'xp-local') {}

  get restUrl(): string {
    return `http://127.0.0.1:${this.restPort}`;
  }

  get grpcEndpoint(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  /** Starts it (on the same ports and data when restarted) and waits until it answers. */
  async start(): Promise<void> {
    if (!this.restPort) [this.restPort, this.grpcPort] = [await freePort(), await freePort()];
    for (const d of ['uploads', 'gcs']) mkdirSync(join(this.dataDir, d), { recursive: true });
    const child = spawn(
      join(TOOLS, 'bq-venv', 'bin', 'python'),
      [
        join(ROOT, 'infra', 'local', 'bqemulator_launch.py'),
        'start',
        ...['--rest-host', '127.0.0.1', '--rest-port', String(this.restPort)],
        ...['--grpc-host', '127.0.0.1', '--grpc-port', String(this.grpcPort)],
        ...['--persistent', '--data-dir', this.dataDir, '--project', this.project, '--log-level', 'warning'],
      ],
      {
        cwd: this.dataDir,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: join(TOOLS, 'bq-home'),
          BQEMU_UPLOAD_STAGING_DIR: join(this.dataDir, 'uploads'),
          BQEMU_GCS_LOCAL_ROOT: join(this.dataDir, 'gcs'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout!.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-4000)));
    child.stderr!.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-4000)));
    this.child = child;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(`${this.restUrl}/bigquery/v2/projects/${this.project}/datasets`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`private emulator did not start: ${this.log}`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** Stops it the hard way (its in-memory Write API streams are lost, the tables stay). */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  async close(): Promise<void> {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
