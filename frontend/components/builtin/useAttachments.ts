"use client";

// The files attached to the message being written: each uploads as soon as it is added,
// with its progress, and is ready, or failed with the server's sentence. Removing one before
// sending deletes it on the server, stopping its upload first if it is still going (one that
// failed was deleted as it failed: uploadFile sees to both).
import { useCallback, useEffect, useRef, useState } from "react";

import { ChatRequestError } from "@/lib/builtin/transport";
import { discardAttachment, uploadFile, type Attachment } from "@/lib/builtin/uploads";
import { ATTACHMENTS_PER_MESSAGE, ATTACHMENT_TYPES, sizeText, tooLargeDetail } from "@/lib/shared/attachments";

export type PendingFile = {
  key: string;
  name: string;
  /** An image (by its declared type): shown as a preview once uploaded. */
  image: boolean;
  /** The share uploaded, 0 to 1. */
  progress: number;
  /** Once uploaded: ready to send. */
  attachment: Attachment | null;
  /** Why it cannot be sent, in the server's words or ours. */
  error: string | null;
};

export type Attachments = {
  files: PendingFile[];
  /** Why some files were not added (too many), if any. */
  notice: string | null;
  add: (files: File[]) => void;
  remove: (key: string) => void;
  /** After sending: the composer starts empty (the sent files stay on the server). */
  clear: () => void;
  /** The uploaded ones, to send. */
  ready: Attachment[];
  /** Some file is still uploading. */
  uploading: boolean;
};

let counter = 0;

export function useAttachments(maxBytes: number): Attachments {
  const [files, setFiles] = useState<PendingFile[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const uploads = useRef(new Map<string, AbortController>());
  const current = useRef(files);
  useEffect(() => {
    current.current = files;
  });

  const update = useCallback((key: string, change: Partial<PendingFile>) => {
    setFiles((list) => list.map((file) => (file.key === key ? { ...file, ...change } : file)));
  }, []);

  const add = useCallback(
    (picked: File[]) => {
      const room = ATTACHMENTS_PER_MESSAGE - current.current.length;
      setNotice(
        picked.length > room ? `A message can carry at most ${ATTACHMENTS_PER_MESSAGE} files.` : null,
      );
      const added = picked.slice(0, Math.max(room, 0)).map((file): [File, PendingFile] => {
        counter += 1;
        const entry: PendingFile = {
          key: `file-${counter}`,
          name: file.name,
          image: file.type.startsWith("image/") && file.type in ATTACHMENT_TYPES,
          progress: 0,
          attachment: null,
          // Told at once, not after uploading what the server would refuse anyway.
          error: file.size > maxBytes ? `${file.name} is ${sizeText(file.size)}. ${tooLargeDetail(maxBytes)}` : null,
        };
        return [file, entry];
      });
      setFiles((list) => [...list, ...added.map(([, entry]) => entry)]);
      for (const [file, entry] of added) {
        if (entry.error) continue;
        const controller = new AbortController();
        uploads.current.set(entry.key, controller);
        uploadFile(file, (progress) => update(entry.key, { progress }), controller.signal).then(
          (attachment) => update(entry.key, { attachment, progress: 1 }),
          (error: unknown) => {
            if (error instanceof DOMException && error.name === "AbortError") return;
            const message =
              error instanceof ChatRequestError ? error.message : "The file could not be attached; try again.";
            update(entry.key, { error: message });
          },
        ).finally(() => uploads.current.delete(entry.key));
      }
    },
    [maxBytes, update],
  );

  const remove = useCallback((key: string) => {
    uploads.current.get(key)?.abort();
    const file = current.current.find((each) => each.key === key);
    if (file?.attachment) discardAttachment(file.attachment.id);
    setFiles((list) => list.filter((each) => each.key !== key));
    setNotice(null);
  }, []);

  const clear = useCallback(() => {
    setFiles([]);
    setNotice(null);
  }, []);

  const ready = files.flatMap((file) => (file.attachment && !file.error ? [file.attachment] : []));
  const uploading = files.some((file) => !file.attachment && !file.error);
  return { files, notice, add, remove, clear, ready, uploading };
}
