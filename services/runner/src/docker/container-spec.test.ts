import { describe, expect, it } from 'vitest';
import { containerSpec, profileKey } from './container-spec.js';
import { StreamDemux } from './stream-demux.js';

describe('containerSpec', () => {
  const spec = containerSpec({
    image: 'domaeka-sandbox:latest',
    runnerId: 'r1',
    instance: 42,
    prefix: 'kb',
    role: 'pool',
    profile: { name: 'free', memoryMb: 256, cpus: 0.5 },
    limits: { pidsLimit: 64, nofile: 64, tmpfsMb: 16 },
  });

  it("carries every setting of DESIGN.md section 5's boundary", () => {
    expect(spec.HostConfig).toMatchObject({
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,noexec,nosuid,nodev,size=16m' },
      PidsLimit: 64,
      Memory: 256 * 1024 * 1024,
      MemorySwap: 256 * 1024 * 1024,
      NanoCpus: 500_000_000,
      Ulimits: [{ Name: 'nofile', Soft: 64, Hard: 64 }],
      LogConfig: { Type: 'none', Config: {} },
      Init: true,
      AutoRemove: false,
      Privileged: false,
      // No /dev/shm (a private IPC namespace would mount a writable 64 MB one): test/security "write /dev/shm".
      IpcMode: 'none',
      Binds: [],
    });
    expect(spec.User).toBe('1000:1000');
    expect(spec.Tty).toBe(false);
  });

  it('labels the container with its runner, life, prefix, role and profile', () => {
    expect(spec.Labels).toEqual({
      'org.domaeka.runner': 'r1',
      'org.domaeka.runner-instance': '42',
      'org.domaeka.prefix': 'kb',
      'org.domaeka.role': 'pool',
      'org.domaeka.profile': 'free',
    });
    expect(profileKey({ name: 'free', memoryMb: 256, cpus: 0.5 })).toBe('free:256:0.5');
  });

  it("mounts only the container's own home, read-only, and names its sockets in the environment", () => {
    const withHome = containerSpec({
      image: 'domaeka-sandbox:latest',
      runnerId: 'r1',
      instance: 42,
      prefix: 'kb',
      role: 'dedicated',
      tenantId: 't1',
      profile: { name: 'premium', memoryMb: 512, cpus: 1 },
      limits: { pidsLimit: 64, nofile: 64, tmpfsMb: 16 },
      home: { bind: '/tmp/domaeka-runner/abc/def:/run/kb:ro', env: ['KB_EGRESS_SOCKET=/run/kb/egress.sock', 'KB_RUNTIME_SOCKET=/run/kb/rt.sock'] },
    });
    expect(withHome.HostConfig.Binds).toEqual(['/tmp/domaeka-runner/abc/def:/run/kb:ro']);
    expect(withHome.Env).toEqual(['KB_EGRESS_SOCKET=/run/kb/egress.sock', 'KB_RUNTIME_SOCKET=/run/kb/rt.sock']);
    expect(withHome.Labels['org.domaeka.tenant']).toBe('t1');
    expect(spec.Env).toEqual([]);
  });
});

describe('StreamDemux', () => {
  const frame = (type: number, body: string) => {
    const h = Buffer.alloc(8);
    h[0] = type;
    h.writeUInt32BE(Buffer.byteLength(body), 4);
    return Buffer.concat([h, Buffer.from(body)]);
  };

  it('splits stdout and stderr frames however the bytes arrive', () => {
    const out: string[] = [];
    const err: string[] = [];
    const d = new StreamDemux((c) => out.push(c.toString()), (c) => err.push(c.toString()));
    const all = Buffer.concat([frame(1, 'hello'), frame(2, 'oops'), frame(1, '세계')]);
    for (let i = 0; i < all.length; i += 3) d.push(all.subarray(i, i + 3));
    expect(out.join('')).toBe('hello세계');
    expect(err).toEqual(['oops']);
  });
});
