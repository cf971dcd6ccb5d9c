import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The reference instances: a copy of ../shared/reference in test/reference, so the tests run from
 * any checkout (referenceCopy.test.ts holds the copy byte-equal to shared/ when shared/ is beside
 * the repository); DMPEMU_REFERENCE points elsewhere. One place for every test that reads them.
 */
export const REFERENCE_DIR = process.env.DMPEMU_REFERENCE ?? fileURLToPath(new URL('./reference/', import.meta.url));
/** Where the shared originals live when the repository sits beside shared/. */
export const SHARED_REFERENCE_DIR = fileURLToPath(new URL('../../shared/reference/', import.meta.url));

if (!existsSync(REFERENCE_DIR)) throw new Error(`reference instances not found at ${REFERENCE_DIR}: set DMPEMU_REFERENCE to a directory holding them`);
