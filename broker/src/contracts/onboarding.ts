/**
 * `GET /onboarding`: the four steps of the home page's first-run checklist
 * (봇 만들기 -> 명령어 -> 폰 연결 -> 첫 답장), each read from the tenant's
 * own data, never from a flag the web sets.
 */
export interface OnboardingView {
  /** A bot exists; `botId`: the oldest (where the next steps lead). */
  bot: { done: boolean; botId: string | null };
  /** A command exists (not deleted); `commandId`: the oldest. */
  command: { done: boolean; commandId: number | null };
  /**
   * A phone of one of the tenant's bots is approved (it has handshaken and
   * may carry replies). `pending`: phones that handshook and wait for
   * approval; `botId`: the bot of the first waiting phone, else of the
   * first approved one, else the oldest bot.
   */
  phone: { done: boolean; pending: number; botId: string | null };
  /** A room call was logged (`kb_api_logs`): `at` the first one's time. */
  reply: { done: boolean; at: Date | null };
}
