/**
 * History ⇄ proto3 JSON (the form `temporal workflow show -o json` and the Web UI's download produce),
 * for the recorder and the replay test.
 *
 * The SDK's own `historyFromJSON` / `historyToJSON` (@temporalio/common/lib/proto-utils) are used when
 * they work. With the dependency tree this project installs they do not: @grpc/proto-loader takes the
 * top-level protobufjs (7.x), so npm gives @temporalio/common, @temporalio/proto and @temporalio/worker
 * each their own nested copy of protobufjs 8, and common's protojson rejects the message types built by
 * proto's copy ("TypeError: type must be a Type", an `instanceof` across two copies). That also breaks
 * `Worker.runReplayHistories` when it is given JSON, since it calls `historyFromJSON` itself. The fallback
 * below does the same conversion with the protojson of the protobufjs copy that @temporalio/proto uses,
 * and hands the replayer decoded History objects (which it takes as they are).
 */
import { createRequire } from 'node:module';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import { historyFromJSON, historyToJSON, type History } from '@temporalio/common/lib/proto-utils';

interface ProtoJson {
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): History | null;
  toJson(type: unknown, message: unknown): unknown;
}

let fallback: { protojson: ProtoJson; historyType: unknown } | undefined;
function sameCopy(): { protojson: ProtoJson; historyType: unknown } {
  if (!fallback) {
    const fromProto = createRequire(require.resolve('@temporalio/proto'));
    const patched = patchProtobufRoot(proto as unknown as Record<string, unknown>) as unknown as { lookupType(name: string): unknown };
    fallback = { protojson: fromProto('protobufjs/ext/protojson') as ProtoJson, historyType: patched.lookupType('temporal.api.history.v1.History') };
  }
  return fallback;
}

const isCopyMismatch = (e: unknown): boolean => e instanceof TypeError && e.message === 'type must be a Type';

/** Parse a history in proto3 JSON (as written by `historyToJson`) into a History the replayer accepts. */
export function historyFromJson(json: unknown): History {
  try {
    return historyFromJSON(json);
  } catch (e) {
    if (!isCopyMismatch(e)) throw e;
    const { protojson, historyType } = sameCopy();
    const loaded = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
    if (!loaded) throw new TypeError('Invalid history');
    return loaded;
  }
}

/** A History as proto3 JSON text, one event field per line (diffable), ending with a newline. */
export function historyToJson(history: History): string {
  let json: unknown;
  try {
    json = JSON.parse(historyToJSON(history));
  } catch (e) {
    if (!isCopyMismatch(e)) throw e;
    const { protojson, historyType } = sameCopy();
    json = protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history));
  }
  return `${JSON.stringify(json, null, 1)}\n`;
}
