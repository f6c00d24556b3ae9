// The main entry's declarations, as a user's compiler sees them: emitted from impl/index.ts, then every .d.ts they
// import followed. None may carry the deviation machinery (engine options that switch checks off, the engine, its
// testing interface): that lives in the testing entry (impl/testing.ts) only.
import { expect } from 'chai';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = dirname(fileURLToPath(import.meta.url));

describe('main entry declarations: no deviation machinery reachable', function () {
  this.timeout(120_000);

  it('the .d.ts graph of impl/index.ts names no deviations, resume, relax, EngineTesting or Engine', () => {
    const out = new Map<string, string>();
    const program = ts.createProgram([join(root, 'index.ts')], {
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true, declaration: true, emitDeclarationOnly: true, skipLibCheck: true, types: ['node'], outDir: '/virtual', rootDir: root,
    });
    const emitted = program.emit(undefined, (file, text) => out.set(file, text));
    expect(emitted.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).to.deep.equal([]);
    const seen = new Set<string>();
    const queue = ['/virtual/index.d.ts'];
    while (queue.length) {
      const f = queue.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      const text = out.get(f);
      expect(text, f).to.be.a('string');
      for (const m of text!.matchAll(/from '(\.[^']+)'|import\("(\.[^"]+)"\)/g)) queue.push(join(dirname(f), (m[1] ?? m[2])!.replace(/\.js$/, '.d.ts')));
    }
    const offending = [...seen].filter((f) => /deviations\??:|\bresume\?:|\brelax\(|ignoreBadMac|EngineTesting|\bclass Engine\b|skipStateChecks/.test(out.get(f)!));
    expect(offending.map((f) => relative('/virtual', f))).to.deep.equal([]);
    expect(seen.size).to.be.above(20);
  });
});
