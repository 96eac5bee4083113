import { z } from 'zod';
import { CryosamError } from '../../errors.js';

/** Parses JSON text and checks it against a schema, naming the file (and line) on failure. */
export function parseJsonAs<T extends z.ZodType>(schema: T, text: string, file: string | undefined, line?: number): z.infer<T> {
  const where = line === undefined ? '' : `line ${line}: `;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CryosamError(`${where}not valid JSON (${(err as Error).message})`, file);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new CryosamError(`${where}${path}${issue.message}`, file);
  }
  return result.data;
}

export const Location = z.object({ x: z.number(), y: z.number(), z: z.number() });
