/** Who is calling: every service method scopes its queries by `tenantId`. */
export interface Caller {
  userId: string;
  tenantId: string;
  isAdmin: boolean;
  /** How the caller proved itself. */
  via: 'session' | 'api_key';
}
