import { ChannelError } from '../errors.js';
import { OpenFailure } from './connection.js';

const names: Record<number, string> = Object.fromEntries(Object.entries(OpenFailure).map(([k, v]) => [v, `SSH_OPEN_${k}`]));

/** The peer refused a channel (SSH_MSG_CHANNEL_OPEN_FAILURE, RFC 4254 §5.1); `openFailure` is the reason code (1–4). */
export class ChannelOpenError extends ChannelError {
  constructor(readonly openFailure: number, readonly description: string) {
    super(`channel open refused: ${names[openFailure] ?? `reason ${openFailure}`} ${JSON.stringify(description)}`);
  }
}
