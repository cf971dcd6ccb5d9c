import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The reference instances (../shared/reference beside the repository, as CI has them), or
 * DMPEMU_REFERENCE when the checkout lives elsewhere. One place for every test that reads them.
 */
export const REFERENCE_DIR = process.env.DMPEMU_REFERENCE ?? fileURLToPath(new URL('../../shared/reference/', import.meta.url));

if (!existsSync(REFERENCE_DIR)) throw new Error(`reference instances not found at ${REFERENCE_DIR}: put shared/ beside the repository or set DMPEMU_REFERENCE`);
