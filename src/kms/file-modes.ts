// File-permission checks of the KMS's inputs (security.md top-10 #3): whoever may write the
// KMS directory, its params or the users file (or its directory) could swap the KMS's identity
// or grant itself identities, so such inputs are refused at start with the chmod to apply.
import { stat } from 'node:fs/promises';
import { KmsError } from './errors.js';

/**
 * Refuses a directory or file that group or others may write (a sticky directory such as /tmp
 * is accepted: others cannot replace what is ours in it). KMS_CONFIG with the fix to apply.
 */
export async function requireNotOthersWritable(path: string, what: string): Promise<void> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new KmsError('KMS_CONFIG', `cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const sticky = st.isDirectory() && (st.mode & 0o1000) !== 0;
  if ((st.mode & 0o022) !== 0 && !sticky) {
    throw new KmsError('KMS_CONFIG', `${what} ${path} is writable by group/others (mode ${(st.mode & 0o777).toString(8)}): chmod go-w it`);
  }
}
