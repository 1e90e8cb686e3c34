/** Save / load tfjs layers models as model.json + weights.bin in a directory (Node, no tfjs-node). */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const weights = Buffer.from(a.weightData as ArrayBuffer);
      writeFileSync(join(dir, 'weights.bin'), weights);
      writeFileSync(
        join(dir, 'model.json'),
        JSON.stringify({
          format: 'layers-model',
          generatedBy: `tfjs ${tf.version.tfjs}`,
          convertedBy: null,
          modelTopology: a.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.length } };
    }),
  );
}

export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const j = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const w = readFileSync(join(dir, 'weights.bin'));
  const weightData = w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: j.modelTopology, weightSpecs: j.weightsManifest[0].weights, weightData }));
}
