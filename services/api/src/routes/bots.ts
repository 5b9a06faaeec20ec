import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import { UuidIdParams, uuidId } from '../http/ids.js';
import type { RouteDeps } from './deps.js';

/** 1-100 characters with at least one that is not a space. */
const BotName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
/** An adopted key or salt: whatever the phones in the field already carry. */
const Secret = Type.String({ minLength: 1, maxLength: 256 });

const CreateBody = Type.Object(
  { name: BotName, secretKey: Type.Optional(Secret), salt: Type.Optional(Secret) },
  { additionalProperties: false },
);
const PatchBody = Type.Object(
  { name: Type.Optional(BotName), manualRoomApproval: Type.Optional(Type.Boolean()), isActive: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);
/** Empty (or no body): a generated pair; both fields: an adopted pair. Half a pair matches no phone. */
const RotateBody = Type.Object(
  { secretKey: Type.Optional(Secret), salt: Type.Optional(Secret) },
  { additionalProperties: false, dependencies: { secretKey: ['salt'], salt: ['secretKey'] } },
);
const BotParams = UuidIdParams;
const DeviceParams = Type.Object({ id: uuidId(), deviceId: Type.String({ minLength: 1, maxLength: 200 }) });
const RoomParams = Type.Object({ id: uuidId(), channelId: Type.String({ minLength: 1, maxLength: 100 }) });

type BotReq = { Params: Static<typeof BotParams> };

/** Bots, and approval of the phones and rooms they have seen. */
export async function botRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.post<{ Body: Static<typeof CreateBody> }>('/bots', { schema: { body: CreateBody } }, async (req, reply) => {
    return reply.code(201).send(await services().bots.create(callerOf(req), req.body));
  });
  app.get('/bots', async (req) => services().bots.list(callerOf(req)));
  app.get<BotReq>('/bots/:id', { schema: { params: BotParams } }, async (req) => services().bots.get(callerOf(req), req.params.id));
  app.patch<BotReq & { Body: Static<typeof PatchBody> }>(
    '/bots/:id',
    { schema: { params: BotParams, body: PatchBody } },
    async (req) => services().bots.update(callerOf(req), req.params.id, req.body),
  );
  app.delete<BotReq>('/bots/:id', { schema: { params: BotParams } }, async (req, reply) => {
    // Its bot-server broker login goes first (owner checked by `get`): if the broker cannot drop it, 503 and the bot stays for a retry.
    const bot = await services().bots.get(callerOf(req), req.params.id);
    if ((await services().brokerUsers.remove(bot.id)) === 'unmanaged') {
      req.log.warn({ botId: bot.id }, 'no rabbitmqctl here and no RABBITMQ_MANAGEMENT_URL: delete broker user kb-bot-<botId> by hand if one was made elsewhere');
    }
    await services().bots.remove(callerOf(req), req.params.id);
    return reply.code(204).send();
  });

  // A new signing pair, shown once like at creation.
  app.post<BotReq & { Body: Static<typeof RotateBody> }>(
    '/bots/:id/rotate-secret',
    {
      schema: { params: BotParams, body: RotateBody },
      // A POST without a body is the plain "generate a new pair" (the schema wants an object).
      preValidation: async (req) => {
        req.body ??= {};
      },
    },
    async (req) => services().bots.rotateSecret(callerOf(req), req.params.id, req.body),
  );

  // RabbitMQ credentials for an external bot server (broker/README.md); calling again rotates the password.
  app.post<BotReq>('/bots/:id/broker-user', { schema: { params: BotParams } }, async (req, reply) => {
    const bot = await services().bots.get(callerOf(req), req.params.id);
    return reply.code(201).send(await services().brokerUsers.provision(bot.id));
  });

  app.get<BotReq>('/bots/:id/devices', { schema: { params: BotParams } }, async (req) =>
    services().approvals.listDevices(callerOf(req), req.params.id),
  );
  // :deviceId is the phone's deviceID string (URL-encoded by the caller; fastify decodes it).
  for (const [action, status] of [['approve', 'approved'], ['block', 'blocked']] as const) {
    app.post<{ Params: Static<typeof DeviceParams> }>(
      `/bots/:id/devices/:deviceId/${action}`,
      { schema: { params: DeviceParams } },
      async (req) => services().approvals.setDeviceStatus(callerOf(req), req.params.id, req.params.deviceId, status),
    );
    app.post<{ Params: Static<typeof RoomParams> }>(
      `/bots/:id/rooms/:channelId/${action}`,
      { schema: { params: RoomParams } },
      async (req) => services().approvals.setRoomStatus(callerOf(req), req.params.id, req.params.channelId, status),
    );
  }
  app.get<BotReq>('/bots/:id/rooms', { schema: { params: BotParams } }, async (req) =>
    services().approvals.listRooms(callerOf(req), req.params.id),
  );

  // The phones' side of the bot pages (issue 16); live changes come over socket.io (`devices:join`).
  app.get('/bots/pending-devices', { schema: { summary: '승인 대기 중인 폰 (모든 봇) / phones awaiting approval, every bot' } }, async (req) =>
    services().phones.pending(callerOf(req)),
  );
  app.get<BotReq>(
    '/bots/:id/connection',
    { schema: { summary: '폰 연결 상태 / whether a phone of the bot is connected', params: BotParams } },
    async (req) => services().phones.connection(callerOf(req), req.params.id),
  );
}
