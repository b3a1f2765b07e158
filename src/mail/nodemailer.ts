import { loadOnFirstUse } from '../core/load-on-first-use.js';

/**
 * nodemailer, loaded when the first message is composed or sent (or the SMTP server checked): a
 * start with email off does not load it, nor one whose outbox stays empty.
 */
export const loadNodemailer = loadOnFirstUse('nodemailer', () => import('nodemailer'));
