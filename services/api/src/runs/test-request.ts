import { restRequestBody, type RestEvent } from '@domaeka/calls';

/**
 * The test defaults of `POST /runs` and `POST /commands/test-http`: a test
 * call gets the request a room message would cause, its missing fields
 * filled (`raw_text` is the command and its parameters when not given).
 */
export function testRestEvent(given: Record<string, unknown>, eventId: string, commandWord?: string | null): RestEvent {
  const command = typeof given.command === 'string' ? given.command : (commandWord ?? '테스트');
  const parameters = Array.isArray(given.parameters) ? given.parameters.map(String) : [];
  return {
    command,
    parameters,
    text: typeof given.raw_text === 'string' ? given.raw_text : [command, ...parameters].join(' '),
    sender: typeof given.sender === 'string' ? given.sender : '테스트 사용자',
    room: typeof given.room === 'string' ? given.room : '테스트방',
    channelId: typeof given.channel_id === 'string' ? given.channel_id : 'test',
    timestamp: new Date().toISOString(),
    deviceKey: 'test',
    botName: 'test',
    eventId,
  };
}

/**
 * The seed's request dict of a test run (`handle_command(params)`), as the
 * dispatcher builds it for a room call: the editor's fields with the test
 * defaults; fields the seed does not name and `metadata` entries are kept.
 */
export function requestDict(given: Record<string, unknown>, commandWord: string | null | undefined, runId: string): Record<string, unknown> {
  const request = restRequestBody(testRestEvent(given, runId, commandWord));
  const givenMeta = given.metadata && typeof given.metadata === 'object' && !Array.isArray(given.metadata) ? (given.metadata as Record<string, unknown>) : {};
  return { ...given, ...request, metadata: { ...(request.metadata as Record<string, unknown>), ...givenMeta } };
}
