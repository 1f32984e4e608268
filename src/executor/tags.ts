// Ansible's tag selection: -t/--tags and --skip-tags with all, tagged,
// untagged, always and never.

export interface TagFilter {
  only: string[]; // empty = all
  skip: string[];
}

export function tagsSelect(taskTags: readonly string[], f: TagFilter): boolean {
  const tags = new Set(taskTags);
  const matches = (sel: string) =>
    sel === 'all'
      ? !tags.has('never')
      : sel === 'tagged'
        ? tags.size > 0
        : sel === 'untagged'
          ? tags.size === 0
          : tags.has(sel);
  if (f.skip.some((s) => (s === 'all' ? true : matches(s)))) return false;
  if (tags.has('always')) return true;
  if (f.only.length === 0) return !tags.has('never');
  return f.only.some(matches);
}
