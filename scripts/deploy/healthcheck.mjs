// A container healthcheck without curl (the slim Node image has none):
//   node scripts/deploy/healthcheck.mjs <url>...
// Exit 0 when every URL answers 200 within 3 s; else 1, printing the status and the body's
// first line (docker inspect shows it under .State.Health, so an unready service says why).
for (const url of process.argv.slice(2)) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    if (res.status !== 200) {
      console.log(`${url} -> ${res.status} ${(await res.text()).split('\n')[0].slice(0, 300)}`);
      process.exit(1);
    }
  } catch (err) {
    console.log(`${url} -> ${err.cause?.code ?? err.name}: ${err.cause?.message ?? err.message}`);
    process.exit(1);
  }
}
