import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Our Kakao i Open Builder fixtures (test/fixtures/kakao/README.md) and the
 * SkillResponse 2.0 contract check: `kakaoAccepts(answer)` lists what Kakao
 * would refuse (empty: accepted). The schema is compiled with the API's own
 * ajv (8; the root's is an older copy some tool pulled in).
 */
export function kakaoFixture(name: string): any {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../fixtures/kakao/${name}`, import.meta.url)), 'utf8'));
}

type Validate = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };
const Ajv = createRequire(new URL('../../services/api/package.json', import.meta.url))('ajv') as {
  default: new (opts: { allErrors: boolean }) => { compile(schema: object): Validate };
};
const validate = new Ajv.default({ allErrors: true }).compile(kakaoFixture('skill-response.schema.json'));

export function kakaoAccepts(answer: unknown): string[] {
  return validate(answer) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
