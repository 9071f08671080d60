"use client";

// An assistant's text as Markdown (GitHub's flavour): never raw HTML, and links that open
// in a new tab without handing it this page. react-markdown's default URL check already
// empties `javascript:` and other unsafe schemes.
import ReactMarkdown, { type Components } from "react-markdown";
import remarkGfm from "remark-gfm";

const REMARK_PLUGINS = [remarkGfm];

const COMPONENTS: Components = {
  a: ({ href, children }) =>
    href ? (
      <a href={href} target="_blank" rel="noopener noreferrer nofollow">
        {children}
      </a>
    ) : (
      <span>{children}</span>
    ),
  // Images would load from anywhere the model names (and the page's policy refuses them).
  img: ({ alt }) => <span>{alt ? `[${alt}]` : "[image]"}</span>,
};

export function MessageMarkdown({ text }: { text: string }) {
  return (
    <ReactMarkdown remarkPlugins={REMARK_PLUGINS} components={COMPONENTS} skipHtml>
      {text}
    </ReactMarkdown>
  );
}
