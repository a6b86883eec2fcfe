/** What the system said of a path, in words. */
const FILE_ERRORS: Record<string, string> = {
  ENOENT: "no such file or folder",
  ENOTDIR: "a part of the path is not a folder",
  EISDIR: "it is a folder, not a file",
  EACCES: "permission denied",
  EPERM: "not permitted",
  EROFS: "read-only file system",
  EEXIST: "it exists already",
};

/** "no such file or folder (ENOENT)", or the error's own message for anything else. */
export function fileErrorWords(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const words = e?.code ? FILE_ERRORS[e.code] : undefined;
  return words ? `${words} (${e.code})` : String(e?.message ?? err);
}

/** A file system error on a path the user named (an output file, a folder): one line, not a stack. */
export function fileProblem(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException;
  if (!e?.code || !FILE_ERRORS[e.code] || typeof e.path !== "string") return undefined;
  return `cannot use ${e.path}: ${fileErrorWords(e)}; check the path`;
}
