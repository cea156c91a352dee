// The PortBinding document as JSON Schema, generated from the zod schema so
// the two can never disagree (`vifd schema` prints it; schema/ holds a copy).
import { z } from 'zod';
import { DocumentSchema } from './schema.js';

export function portBindingJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(DocumentSchema, { io: 'input', target: 'draft-2020-12' }),
    $id: 'https://vifd.dev/schema/portbinding.v1.json',
    title: 'vifd PortBinding v1 (or PortBindingList)',
  };
}
