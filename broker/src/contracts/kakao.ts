/**
 * `GET /bots/:id/kakao`, `PATCH /bots/:id/kakao`, `POST /bots/:id/kakao/rotate`:
 * the bot's official KakaoTalk channel, answered by this platform as a Kakao i
 * Open Builder skill server (`POST /kakao/skill/:skillKey`).
 */
export interface KakaoChannelView {
  /** Ready to paste into Open Builder's skill settings: `<origin>/kakao/skill/<skillKey>`. */
  skillUrl: string;
  /** The key in the URL: whoever knows it can ask the bot's commands; rotate it to cut off an old URL. */
  skillKey: string;
  /** What an utterance that matches no command gets; null: the default text (`defaultFallbackText`). */
  fallbackText: string | null;
  defaultFallbackText: string;
}
