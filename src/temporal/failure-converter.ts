// With payload encryption on, failure messages and stack traces must not stay plain text in
// Temporal: this converter moves them into an encoded attribute, which the codec then encrypts.
// It is loaded by path (DataConverter.failureConverterPath) by the client, by the worker and
// inside the workflow bundle, so it imports nothing but @temporalio/common.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
