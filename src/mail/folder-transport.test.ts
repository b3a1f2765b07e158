import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFolderTransport, readIndex, type OutboxIndexEntry } from './folder-transport.js';

describe('the development outbox folder', () => {
  let root: string;
  let dir: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'gatehouse-outbox-'));
    dir = join(root, 'outbox');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes each message as an .eml file that parses, lists it in index.json and tells onSaved its link', async () => {
    const saved: OutboxIndexEntry[] = [];
    const transport = createFolderTransport({ dir, from: 'Acme ID <no-reply@localhost>', onSaved: (entry) => saved.push(entry) });
    expect(transport.description).toBe(`the development outbox ${dir}`);
    const link = 'http://localhost:3000/verify-email?token=ghe_abc';
    await transport.send({ id: 'm1', kind: 'verify-email', to: 'ann@example.com', subject: 'Verify your email address for Acme ID', text: `Open this link:\n\n${link}\n\nThanks`, html: `<p><a href="${link}">Verify</a></p>` });
    await transport.send({ id: 'm2', kind: 'sign-in-code', to: 'bob@example.com', subject: 'Your code', text: 'Your code is:\n\n123456\n', html: '<p>123456</p>' });

    const index = readIndex(join(dir, 'index.json'));
    expect(index.map((e) => [e.id, e.kind, e.to, e.link])).toEqual([
      ['m1', 'verify-email', 'ann@example.com', link],
      ['m2', 'sign-in-code', 'bob@example.com', '123456'],
    ]);
    expect(saved).toEqual(index);

    const mail = await simpleParser(readFileSync(join(dir, index[0]!.file)));
    expect(mail.from?.value).toEqual([{ name: 'Acme ID', address: 'no-reply@localhost' }]);
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : '').toBe('ann@example.com');
    expect(mail.subject).toBe('Verify your email address for Acme ID');
    expect(mail.text).toContain(link);
    expect(mail.html).toContain(`<a href="${link}">Verify</a>`);
    expect(mail.messageId).toBe('<m1@gatehouse.invalid>');
    // Only the developer reads them: they carry working links.
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, index[0]!.file)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'index.json')).mode & 0o777).toBe(0o600);
  });

  it('a message sent again (a retry after a crash) keeps one index entry', async () => {
    const transport = createFolderTransport({ dir, from: 'a@localhost' });
    const mail = { id: 'same', kind: 'test' as const, to: 'ann@example.com', subject: 's', text: 'no link here', html: '<p>x</p>' };
    await transport.send(mail);
    await transport.send(mail);
    const index = readIndex(join(dir, 'index.json'));
    expect(index).toHaveLength(1);
    expect(index[0]!.link).toBeNull();
  });

  it('verify creates the folder; a missing or broken index reads as empty', async () => {
    const transport = createFolderTransport({ dir, from: 'a@localhost' });
    expect(readIndex(join(dir, 'index.json'))).toEqual([]);
    await transport.verify();
    expect(statSync(dir).isDirectory()).toBe(true);
  });
});
