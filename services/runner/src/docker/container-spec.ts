import type { PoolProfile } from '../config.js';

/**
 * THE sandbox container settings, in one place (DESIGN.md section 5's
 * boundary list). Plain data in Docker Engine API shape, so the engine
 * wrapper passes it through untouched and a test can read every setting.
 */
export const LABELS = {
  runner: 'org.domaeka.runner',
  /** The runner process's start (epoch ms): a restarted runner with a fixed id still tells its old containers apart. */
  instance: 'org.domaeka.runner-instance',
  /** Broker prefix: runners of another deployment (or test file) never reap these. */
  prefix: 'org.domaeka.prefix',
  role: 'org.domaeka.role',
  profile: 'org.domaeka.profile',
  /** Only on dedicated containers: the tenant it holds (never reused for another). */
  tenant: 'org.domaeka.tenant',
} as const;

/** `pool`: started ahead, taken by one ephemeral run; `ephemeral`: started for one run (empty pool); `dedicated`: one tenant's long-lived container. */
export type ContainerRole = 'pool' | 'ephemeral' | 'dedicated';

export interface SandboxLimits {
  pidsLimit: number;
  nofile: number;
  tmpfsMb: number;
}

export interface SpecInput {
  image: string;
  runnerId: string;
  instance: number;
  prefix: string;
  role: ContainerRole;
  profile: PoolProfile;
  limits: SandboxLimits;
  /** Dedicated containers only. */
  tenantId?: string;
  /** The container's home directory (`Binds` entry, mounted read-only at /run/kb) and what the runtime finds there. */
  home?: { bind: string; env: string[] };
}

/** The body of `POST /containers/create`. */
export interface ContainerSpec {
  Image: string;
  User: string;
  Tty: false;
  OpenStdin: true;
  StdinOnce: false;
  AttachStdin: true;
  AttachStdout: true;
  AttachStderr: true;
  NetworkDisabled: true;
  Env: string[];
  Labels: Record<string, string>;
  HostConfig: Record<string, unknown>;
}

export function containerSpec(i: SpecInput): ContainerSpec {
  const memory = i.profile.memoryMb * 1024 * 1024;
  return {
    Image: i.image,
    // uid 1000 even if the image's USER line were ever lost.
    User: '1000:1000',
    // No TTY: the attach stream is multiplexed (stdout frames stay binary-clean) and the runtime frames its own messages.
    Tty: false,
    OpenStdin: true,
    StdinOnce: false,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    NetworkDisabled: true,
    Env: i.home?.env ?? [],
    Labels: {
      [LABELS.runner]: i.runnerId,
      [LABELS.instance]: String(i.instance),
      [LABELS.prefix]: i.prefix,
      [LABELS.role]: i.role,
      [LABELS.profile]: i.profile.name,
      ...(i.tenantId !== undefined ? { [LABELS.tenant]: i.tenantId } : {}),
    },
    HostConfig: {
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      // noexec: nothing written at run time can be executed; size-capped so /tmp cannot fill host memory.
      Tmpfs: { '/tmp': `rw,noexec,nosuid,nodev,size=${i.limits.tmpfsMb}m` },
      PidsLimit: i.limits.pidsLimit,
      // Memory = MemorySwap: no swap, so a memory bomb meets the OOM killer (OOMKilled), not the disk.
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(i.profile.cpus * 1e9),
      Ulimits: [{ Name: 'nofile', Soft: i.limits.nofile, Hard: i.limits.nofile }],
      // Output travels only over the runtime's channel, capped; a log driver would store tenant floods on disk.
      LogConfig: { Type: 'none', Config: {} },
      // tini as PID 1: signals to the runtime work, orphans are reaped (sandbox-image/README.md).
      Init: true,
      // Removed by us after inspecting OOMKilled; AutoRemove would race the inspect.
      AutoRemove: false,
      Privileged: false,
      // 'none', not 'private': a private IPC namespace still mounts a 64 MB world-writable /dev/shm
      // (a writable place outside /tmp's cap, found by test/security: "write /dev/shm"); with 'none'
      // there is no /dev/shm at all, writes there fail (ENOENT; /dev itself is root-owned: EACCES).
      IpcMode: 'none',
      // Only the container's own home, read-only: the runner's sockets live there, nothing of the container can.
      Binds: i.home ? [i.home.bind] : [],
      RestartPolicy: { Name: 'no' },
    },
  };
}

/** Pools are per limit profile: a pooled container already has the limits of the plan it serves. */
export function profileKey(p: PoolProfile): string {
  return `${p.name}:${p.memoryMb}:${p.cpus}`;
}
