import { expect } from 'vitest';
import { errno, prog, type Hostile } from './shared.js';

/**
 * Dedicated mode keeps a tenant's container, its /tmp and its interpreter
 * from one call to the next: tenant X leaves a file, a module global and a
 * process-wide attribute behind; other tenants, in containers of their own,
 * find none of it. X's later calls prove the state was kept (they raise if
 * it is gone), so "not found" means "not shared", not "not kept".
 */
const TENANT_X = `
import builtins
X_SECRET = None
calls = 0

def handle_command(params):
    global X_SECRET, calls
    calls += 1
    if calls == 1:
        X_SECRET = "x-tenant-" + "secret"
        with open("/tmp/x-tenant-secret.txt", "w") as f:
            f.write("x data")
        builtins.kb_x_stash = "x data"
        return "stored"
    if X_SECRET != "x-tenant-secret" or getattr(builtins, "kb_x_stash", None) != "x data":
        raise RuntimeError("tenant X lost its module state")
    with open("/tmp/x-tenant-secret.txt") as f:
        if f.read() != "x data":
            raise RuntimeError("tenant X lost its file")
    return f"kept {calls}"
`;

/** Looks for X's file (by name and path), X's module (by its global's name), X's builtins attribute. */
const LOOK_FOR_X = prog(`
import builtins, gc
def handle_command(p):
    found = []
    for root in ("/tmp", "/dev/shm", "/var/tmp", "/opt/kb"):
        for dirpath, dirs, files in os.walk(root):
            found += [os.path.join(dirpath, n) for n in files + dirs if "x-tenant" in n]
    if hasattr(builtins, "kb_x_stash"):
        found.append("builtins.kb_x_stash")
    for name, m in list(sys.modules.items()):
        if hasattr(m, "X_SECRET"):
            found.append("module " + name)
    for o in gc.get_objects():
        if isinstance(o, dict) and "X_SECRET" in o:
            found.append("a namespace holding X_SECRET")
    try:
        open("/tmp/x-tenant-secret.txt").read()
        return "FOUND:None"
    except OSError as e:
        return f"{_e(e)}:{found}"
`);

const findsNothing = (r: Parameters<Hostile['check']>[0]) => {
  errno(/FileNotFoundError/, 'ENOENT')(r);
  expect(String(r.result?.text)).toMatch(/:\[\]$/);
};

export const CROSS_TENANT: Hostile[] = [
  {
    name: "tenant X stores a /tmp file and module state; tenant Y (dedicated too) finds neither",
    row: "/var/run/docker.sock exists? other tenants' files?",
    before: { tenantId: 'tenant-x', code: TENANT_X },
    code: LOOK_FOR_X,
    check: findsNothing,
  },
  {
    name: 'tenant X still holds its file and module state; another tenant still finds neither',
    row: "/var/run/docker.sock exists? other tenants' files?",
    before: { tenantId: 'tenant-x', code: TENANT_X },
    code: LOOK_FOR_X,
    check: findsNothing,
  },
];

/**
 * A dedicated container outlives a successful answer, and so does whatever
 * the program left running in it: a thread spinning a CPU and a forked
 * child. They stay inside the tenant's own limits (CPU quota, pids): other
 * tenants are answered as before. Run last: it keeps one CPU busy.
 */
export const LEFTOVERS: Hostile[] = [
  {
    name: 'leaves a spinning thread and a forked child running after its answer',
    row: 'CPU spin; sleep forever; never returning; blocking on stdin',
    code: prog(`
import threading, time
def _spin():
    while True:
        pass
def handle_command(p):
    threading.Thread(target=_spin, daemon=True).start()
    if os.fork() == 0:
        while True:
            time.sleep(1)
    return "left behind"
`),
    check: (r) => {
      expect(r.error, JSON.stringify(r.error)).toBeNull();
      expect(r.result?.text).toBe('left behind');
    },
  },
];
