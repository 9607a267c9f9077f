/**
 * A body reader that first hands out bytes already read from the upstream, unchanged, then reads on: lets a check
 * look at the start of a body (stream preamble, error body) and still give the whole body to whoever reads next.
 * Pure (no ngx); shared by the provider's stream gate and the holder retry.
 */
export type BodyReader = NonNullable<AiHttpResponse["body_reader"]>;

export function replayReader(this: void, held: string, upstream: BodyReader): BodyReader {
  let pending: string | undefined = held !== "" ? held : undefined;
  return (size?: number) => {
    if (pending !== undefined) {
      const out = pending;
      pending = undefined;
      return $multi(out);
    }
    return upstream(size);
  };
}
