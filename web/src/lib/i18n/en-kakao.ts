import type { koKakao } from './ko-kakao';

/** English for the bot page's KakaoTalk channel section and a logged call's source (spread into `en`). */
export const enKakao: Partial<Record<keyof typeof koKakao, string>> = {
  'kakao.title': '💬 KakaoTalk channel',
  'kakao.intro':
    "Let the chatbot of your official KakaoTalk channel answer with this bot's commands. No phone needed. Register the skill URL below in Kakao i Open Builder (the chatbot admin center).",
  'kakao.skillUrl': 'Skill URL',
  'kakao.skillKey': 'Skill key',
  'kakao.keyHelp': "Whoever knows this key can call the bot's commands. If it leaked, make a new one.",
  'kakao.rotate': '🔄 New skill key',
  'kakao.rotateConfirm': 'The current skill URL stops working at once. You must put the new URL into Open Builder. Continue?',
  'kakao.rotated': 'New skill key made. Put the new skill URL into Open Builder.',
  'kakao.fallback': 'Answer to words that are no command',
  'kakao.fallbackHelp': 'Empty: the default text, "{text}"',
  'kakao.fallbackSave': '💾 Save',
  'kakao.fallbackSaved': 'Saved.',
  'kakao.steps': 'In Open Builder',
  'kakao.step1': 'Create a channel in the KakaoTalk channel admin center and a chatbot in the chatbot admin center (Kakao i Open Builder), linked to it.',
  'kakao.step2': '"Skills" → "Create": give it a name, paste the skill URL above as its URL, save.',
  'kakao.step3': '"Scenarios" → "Fallback block" (or the block that should take commands): choose the new skill in its parameter settings.',
  'kakao.step4': 'In the same block\'s bot response, choose "use skill data" and save.',
  'kakao.step5':
    '(Optional) For commands slower than 5 seconds: apply for the callback feature under Settings → AI chatbot, and switch on the block\'s callback setting. The channel then says "잠시만요, 답을 준비하고 있어요." first and sends the result within a minute.',
  'kakao.step6': 'Deploy. Then send "날씨 화도읍" on the channel.',
  'kakao.notes':
    'The channel shows as one room starting with "kakao:" in the room list below (with manual room approval, approve it). Its calls show in the logs and the live tail as "KakaoTalk channel" and count against the plan\'s daily runs.',
  'source.kakao-skill': '💬 KakaoTalk channel',
  'source.http': '🌐 HTTP',
  'source.ingress': '🖥️ Bot server',
  'source.schedule': '⏰ Schedule',
  'source.send': '📤 Sent by code',
  'source.title': 'Came in through',
};
