import { checkAws } from '../../lib/config/aws';
import { checkHcloud } from '../../lib/config/hcloud';
import { loadProjectFile, onMaster, onRedirector } from '../../lib/project/project';
import { SCALED_DEFAULTS } from '../../lib/project/redirector-scaled';
import { checkMasterFirewallHcloud } from '../../lib/roles/master/limits';
import { checkRedirectorHcloud } from '../../lib/roles/redirector/checks';
import { EXAMPLE_PROJECT, problems, projectWith, scaledProject } from './support';

/* redirector.profile: one switch between one machine and the scaled profile (R5). */
describe('redirector.profile', () => {
  it('examples/project.yaml runs one machine by default, with the scaled keys written but unread', () => {
    const r = loadProjectFile(EXAMPLE_PROJECT, [onRedirector(checkAws)]).redirector!;
    expect(r.profile).toBe('single');
    expect(r.scaled).toBeUndefined();
    const noKey = loadProjectFile(projectWith((s) => s.replace('  profile: single\n', ''))).redirector!;
    expect(noKey.profile).toBe('single');
  });

  it('one line moves it to the scaled profile, with the defaults for every key not written', () => {
    const r = loadProjectFile(scaledProject(), [onRedirector(checkAws)]).redirector!;
    expect(r.profile).toBe('scaled');
    expect(r.scaled).toEqual({
      ...SCALED_DEFAULTS,
      image: 'registry.example.org/infra/mirrorbits@sha256:4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a2918070605',
      minTasks: 2,
      maxTasks: 6,
    });
  });

  it('scaled needs the image pinned by digest: missing or a tag is an error at its line', () => {
    const missing = scaledProject((s) => s.replace(/    image: .*\n/, ''));
    expect(problems(missing, () => loadProjectFile(missing))).toEqual([
      'FILE:57:5 redirector.scaled.image: missing — required with profile: scaled: the infra team\'s mirrorbits image pinned by digest, such as registry.example.org/infra/mirrorbits@sha256:<64 hex digits> (a tag alone can change under you)',
    ]);
    const noBlock = scaledProject((s) => s.replace(/  scaled:\n(    .*\n)+/, ''));
    expect(problems(noBlock, () => loadProjectFile(noBlock))).toEqual([
      expect.stringMatching(/^FILE:\d+:\d+ redirector\.scaled: missing — required with profile: scaled: the infra team's mirrorbits image pinned by digest/),
    ]);
    const tag = scaledProject((s) => s.replace(/@sha256:[0-9a-f]{64}/, ':v0.6.1'));
    expect(problems(tag, () => loadProjectFile(tag))).toEqual([
      'FILE:57:12 redirector.scaled.image: "registry.example.org/infra/mirrorbits:v0.6.1" — the infra team\'s mirrorbits image pinned by digest, such as registry.example.org/infra/mirrorbits@sha256:<64 hex digits> (a tag alone can change under you)',
    ]);
  });

  it('every bad scaled value at once: profile, task counts, Fargate sizes, Redis', () => {
    const file = projectWith((s) => s.replace('  profile: single', '  profile: big')
      .replace('    maxTasks: 6', '    maxTasks: 6\n    taskCpu: 300\n    redisNodeType: t4g.medium\n    architecture: sparc'));
    expect(problems(file, () => loadProjectFile(file))).toEqual([
      'FILE:54:12 redirector.profile: "big" — single or scaled',
      'FILE:60:14 redirector.scaled.taskCpu: 300 — Fargate CPU units per task: 256, 512, 1024, 2048 or 4096',
      'FILE:61:20 redirector.scaled.redisNodeType: "t4g.medium" — an ElastiCache node type such as cache.t4g.medium',
      'FILE:62:19 redirector.scaled.architecture: "sparc" — x86_64 or arm64: the image\'s architecture',
    ]);
    const sizes = scaledProject((s) => s.replace('    minTasks: 2\n    maxTasks: 6', '    minTasks: 4\n    maxTasks: 3\n    taskCpu: 256\n    taskMemoryMiB: 4096'));
    expect(problems(sizes, () => loadProjectFile(sizes))).toEqual([
      'FILE:59:15 redirector.scaled.maxTasks: 3 — at least minTasks (4)',
      'FILE:61:20 redirector.scaled.taskMemoryMiB: 4096 — with taskCpu 256, Fargate allows 512–2048 MiB in steps of 512',
    ]);
    const one = scaledProject((s) => s.replace('    minTasks: 2', '    minTasks: 1'));
    expect(problems(one, () => loadProjectFile(one))).toEqual(['FILE:58:15 redirector.scaled.minTasks: 1 — a whole number of tasks from 2 to 100: at least one per zone']);
  });

  it('on Hetzner Cloud the scaled profile is an error naming the cloud, at the profile\'s line', () => {
    const checks = [onMaster(checkHcloud), onRedirector(checkHcloud), checkMasterFirewallHcloud, checkRedirectorHcloud];
    expect(loadProjectFile(EXAMPLE_PROJECT, checks).redirector!.profile).toBe('single');
    const file = scaledProject();
    expect(problems(file, () => loadProjectFile(file, checks))).toEqual([
      'FILE:54:12 redirector.profile: "scaled" — single on Hetzner Cloud: the scaled profile runs on AWS (ALB, ECS on Fargate, ElastiCache, EFS), which Hetzner Cloud does not offer; deploy it with npx cdk deploy -c project=project.yaml',
    ]);
  });
});
