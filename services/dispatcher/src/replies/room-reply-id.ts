import { createHash } from 'node:crypto';

/**
 * The id of a reply to one room that the event itself did not come from
 * (a schedule fire's rooms, code's `send()`): derived from the event's id
 * (plus what tells the messages apart) and the room, so a republished or
 * redelivered event gives each room the same id again (the gateway drops
 * an id it already wrote) while two rooms on one phone are two replies.
 */
export function roomReplyId(eventId: string, botId: string, channelId: string): string {
  const h = createHash('sha256').update(`${eventId}/${botId}/${channelId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
