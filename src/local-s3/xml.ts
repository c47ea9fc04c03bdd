/** The few XML documents the local S3 server reads and writes, as S3 spells them. */

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char]!);
}

export function unescapeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#x[0-9a-f]+|#\d+);/gi, (_entity, name: string) => {
    const lower = name.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(Number.parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(Number.parseInt(lower.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[lower]!;
  });
}

const HEAD = '<?xml version="1.0" encoding="UTF-8"?>';
const NAMESPACE = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

export function errorXml(code: string, message: string, resource: string): string {
  return `${HEAD}<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><Resource>${escapeXml(resource)}</Resource></Error>`;
}

export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date;
}

export function listXml(list: {
  bucket: string;
  prefix: string;
  maxKeys: number;
  objects: readonly ListedObject[];
  continuationToken: string | undefined;
  nextContinuationToken: string | undefined;
  startAfter: string | undefined;
}): string {
  const contents = list.objects
    .map(
      (object) =>
        `<Contents><Key>${escapeXml(object.key)}</Key><LastModified>${object.lastModified.toISOString()}</LastModified>` +
        `<Size>${object.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    )
    .join('');
  const optional = [
    list.continuationToken === undefined
      ? ''
      : `<ContinuationToken>${escapeXml(list.continuationToken)}</ContinuationToken>`,
    list.nextContinuationToken === undefined
      ? ''
      : `<NextContinuationToken>${escapeXml(list.nextContinuationToken)}</NextContinuationToken>`,
    list.startAfter === undefined ? '' : `<StartAfter>${escapeXml(list.startAfter)}</StartAfter>`,
  ].join('');
  return (
    `${HEAD}<ListBucketResult ${NAMESPACE}><Name>${escapeXml(list.bucket)}</Name><Prefix>${escapeXml(list.prefix)}</Prefix>` +
    `<KeyCount>${list.objects.length}</KeyCount><MaxKeys>${list.maxKeys}</MaxKeys>` +
    `<IsTruncated>${list.nextContinuationToken !== undefined}</IsTruncated>${optional}${contents}</ListBucketResult>`
  );
}

/** The keys of a DeleteObjects request, and whether it asked for a quiet answer. */
export function readDeleteRequest(xml: string): { keys: string[]; quiet: boolean } {
  const keys = [...xml.matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((match) => unescapeXml(match[1]!));
  return { keys, quiet: /<Quiet>\s*true\s*<\/Quiet>/i.test(xml) };
}

export function deleteResultXml(deleted: readonly string[]): string {
  const items = deleted.map((key) => `<Deleted><Key>${escapeXml(key)}</Key></Deleted>`).join('');
  return `${HEAD}<DeleteResult ${NAMESPACE}>${items}</DeleteResult>`;
}
