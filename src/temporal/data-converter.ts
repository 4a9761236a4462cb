// The one DataConverter of the client and the worker: Temporal's defaults, or — with
// TEMPORAL_PAYLOAD_KEY — encrypted payloads and encoded failure attributes. Both sides must
// agree, so both build it here.
import type { DataConverter } from '@temporalio/common';
import type { Config } from '../config';
import { EncryptionCodec } from './encryption-codec';

/** Path of the module exporting the encoding failure converter (the workflow bundle needs a path). */
export const ENCODING_FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

export function temporalDataConverter(config: Pick<Config, 'payloadKeys'>): DataConverter | undefined {
  if (!config.payloadKeys) return undefined;
  return { payloadCodecs: [new EncryptionCodec(config.payloadKeys)], failureConverterPath: ENCODING_FAILURE_CONVERTER_PATH };
}
