import type { Key } from './ko';

export const enReply: Partial<Record<Key, string>> = {
  'kind.reply': '💬 Fixed reply',
  'kind.replyHelp': 'No code: answers with fixed words (image, buttons): opening hours, location, menu, notices.',
  'reply.title': '💬 Fixed reply (no code)',
  'reply.text': 'Reply text',
  'reply.placeholders': '{sender} becomes the sender name, {room} the room, {params} the words after the command.',
  'reply.image': 'Image URL (optional)',
  'reply.buttons': 'Buttons (optional, up to 5)',
  'reply.addButton': '+ Add button',
  'reply.preview': 'What the room reads',
  'templates.replySection': 'Reply without code',
  'templates.codeSection': '🐍 With Python code',
  'secret.toBotPage': '📲 Connect a phone (QR code)',
};
