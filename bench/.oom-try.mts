import { Kysely, sql } from 'kysely';
import { SqliteWorkerDialect } from '../src/store/sqlite-worker-dialect.js';
for (const mb of [8, 16, 32]) {
  const db = new Kysely<any>({ dialect: new SqliteWorkerDialect({ path: '/tmp/oom-try.db', resourceLimits: { maxOldGenerationSizeMb: mb, maxYoungGenerationSizeMb: 4 } }) });
  console.log('start'); await sql`select 1`.execute(db); console.log('ok1');
  const t = performance.now();
  try { await sql`with recursive c(i) as (select 1 union all select i + 1 from c where i < 3000000) select i, printf('%0200d', i) as pad from c`.execute(db); console.log('no crash'); }
  catch (e) { console.log(mb, (e as Error).message, Math.round(performance.now() - t)); }
  await db.destroy();
}
