import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SessionTarget } from './registry';

/** One session an account holds, as written to disk: ids and a time only, never a token or a secret. */
export interface JournalEntry {
  id: string;
  target: SessionTarget;
  /** ISO time the session was started. */
  startedAt: string;
  /** Endpoint, cluster and partner (client id) it belongs to: only that account may end it. */
  origin: string;
}

interface JournalFile {
  version: 1;
  sessions: JournalEntry[];
}

/**
 * The sessions one account holds, kept in a file of the Node-RED user directory so that a Node-RED killed
 * without a chance to end them (SIGKILL, out of memory, power cut) ends them on its next start. Every
 * change rewrites the whole file through a temporary file and a rename, so a crash mid-write leaves the
 * previous version, never half of one.
 */
export class SessionJournal {
  readonly file: string;
  readonly #entries = new Map<string, JournalEntry>();
  readonly #warn: (message: string) => void;

  constructor(file: string, warn: (message: string) => void = () => undefined) {
    this.file = file;
    this.#warn = warn;
    for (const e of this.#read()) this.#entries.set(e.id, e);
  }

  /** The sessions on record (those of an earlier run of Node-RED, until they are dealt with). */
  entries(): JournalEntry[] {
    return [...this.#entries.values()];
  }

  add(entry: JournalEntry): void {
    this.#entries.set(entry.id, entry);
    this.#write();
  }

  remove(id: string): void {
    if (this.#entries.delete(id)) this.#write();
  }

  #read(): JournalEntry[] {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return []; // no record yet
    }
    try {
      const data = JSON.parse(text) as Partial<JournalFile>;
      return (data.sessions ?? []).filter((e) => typeof e?.id === 'string' && typeof e.origin === 'string' && e.target);
    } catch (err) {
      this.#warn(`The record of open openOBD sessions (${this.file}) is unreadable and was ignored: ${(err as Error).message}`);
      return [];
    }
  }

  #write(): void {
    try {
      if (this.#entries.size === 0) {
        fs.rmSync(this.file, { force: true });
        return;
      }
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      const data: JournalFile = { version: 1, sessions: this.entries() };
      const fd = fs.openSync(tmp, 'w', 0o600);
      try {
        fs.writeFileSync(fd, `${JSON.stringify(data, null, 2)}\n`);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, this.file);
    } catch (err) {
      // A full disk must not stop the session itself; it only loses the protection against a crash.
      this.#warn(`Could not record the open openOBD sessions in ${this.file}: ${(err as Error).message}`);
    }
  }
}
