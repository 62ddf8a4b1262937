/** `npm run manifests`: writes deploy/manifests/wva-scaler.yaml from the chart with the real helm (see helm.ts). */
import { writeFile } from 'node:fs/promises';
import { MANIFEST_PATH, renderChartManifest } from './helm.js';

await writeFile(MANIFEST_PATH, await renderChartManifest());
process.stdout.write(`wrote ${MANIFEST_PATH}\n`);
