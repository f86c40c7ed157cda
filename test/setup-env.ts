import { inject } from 'vitest';

// Every helm template of this test file (ours and the generator's) goes through the run's render cache.
process.env.KFC_RENDER_CACHE = inject('renderCache');

// Temporary files of this test file (os.tmpdir() reads TMPDIR): in the run's directory, removed at the end.
process.env.TMPDIR = inject('runTmp');
