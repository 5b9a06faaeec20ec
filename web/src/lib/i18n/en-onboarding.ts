import type { Key } from './ko';

/** The first-run checklist in English (spread into `en`). */
export const enOnboarding: Partial<Record<Key, string>> = {
  'start.title': 'New here? Four steps to the first reply in a room',
  'start.progress': '{done} / 4 done',
  'start.live': 'Steps tick themselves as they are done',
  'start.done': 'done',
  'start.todo': 'to do',
  'start.bot': 'Create a bot',
  'start.botHelp': 'A bot joins your KakaoTalk bot phone to this server. A name is all it takes.',
  'start.botGo': 'Create a bot',
  'start.botDone': 'You have a bot',
  'start.command': 'Make a command',
  'start.commandHelp': 'What customers send (e.g. 날씨) and the answer. Start from a template.',
  'start.commandGo': 'Start from a template',
  'start.commandDone': 'You have a command',
  'start.phone': 'Connect the phone',
  'start.phoneHelp': 'Put the bridge script on the bot phone and turn it on. A new phone answers once approved.',
  'start.phoneGo': 'Connect a phone',
  'start.phonePending': '{n} phone(s) waiting for approval: approve here',
  'start.phoneDone': 'A phone is connected',
  'start.reply': 'First reply',
  'start.replyHelp': 'Send "{example}" in a KakaoTalk room with the bot.',
  'start.replyGo': 'See the call log',
  'start.replyDone': 'First reply: {at}',
  'start.finished': '🎉 All set: the first reply went out in a room.',
  'start.hide': 'Close',
};
