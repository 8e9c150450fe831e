"""Uses Thalia as a project outside this tree would: `meson install` into a temporary DESTDIR,
then examples/train_loop.cc built out of tree once with `pkg-config --cflags --libs thalia` and
once with a CMakeLists.txt of find_package(Thalia), both run with --workers 2 --launch spawn;
their digests must equal the in-tree build's. Also checks that every installed header says it is
public and compiles with only the installed tree, that a program which never calls MaybeRunWorker
spawns the installed `thalia`, and that the version API matches the project's version.

usage: install_test.py --build-root DIR --source-root DIR --meson MESON --cxx CXX [CXX...]
                       --version V --train-loop IN_TREE_TRAIN_LOOP --thalia IN_TREE_THALIA
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

CONFIG = 'examples/tiny.json'
TRAIN_ARGS = ['--trials', '3', '--workers', '2', '--launch', 'spawn']
PUBLIC_MARK = 'Public API: installed with libthalia'
CMAKE_LISTS = """cmake_minimum_required(VERSION 3.16)
project(train_loop CXX)
find_package(Thalia REQUIRED)
add_executable(train_loop train_loop.cc)
target_link_libraries(train_loop PRIVATE Thalia::thalia)
"""


class Failure(Exception):
    pass


def run(cmd, env=None, cwd=None):
    """Runs cmd; returns its stdout, or raises Failure with the command and its output."""
    print('$ ' + ' '.join(cmd), flush=True)
    try:
        p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=300)
    except FileNotFoundError:
        raise Failure(f'{cmd[0]}: not found (the install test needs the packages in .ci/packages.txt)')
    if p.returncode != 0:
        raise Failure(f'{" ".join(cmd)}: exit status {p.returncode}\n{p.stdout}{p.stderr}')
    return p.stdout


def digest_of(output, what):
    found = re.findall(r'^digest ([0-9a-f]{16})$', output, re.M)
    if len(found) != 1:
        raise Failure(f'{what}: expected one line "digest <16 hex digits>", got:\n{output}')
    return found[0]


def installed_paths(args, stage):
    """Where libthalia, thalia, thalia.pc and ThaliaConfig.cmake went under the stage."""
    installed = json.loads(run([args.meson, 'introspect', args.build_root, '--installed']))
    wanted = {'lib': re.compile(r'/libthalia\.(so|a)$'), 'exe': re.compile(r'/bin/thalia$'),
              'pc': re.compile(r'/thalia\.pc$'), 'cmake': re.compile(r'/ThaliaConfig\.cmake$')}
    found = {}
    for dest in installed.values():
        for key, pattern in wanted.items():
            if pattern.search(dest) and key not in found:
                found[key] = stage + dest
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise Failure(f'meson introspect --installed lists no {", ".join(missing)}')
    for key, path in found.items():
        if not os.path.exists(path):
            raise Failure(f'{path}: listed as installed ({key}) but not there after meson install')
    return found


def check_headers(args, include_root, env, work):
    """Every installed header says it is public (the generated schema headers excepted), every
    header that says so is installed, and one file including all of them compiles against the
    installed tree."""
    headers = []
    for folder, _, files in os.walk(include_root):
        for name in files:
            headers.append(os.path.relpath(os.path.join(folder, name), include_root))
    headers.sort()
    if 'kernel/brain.h' not in headers or 'schemas/config_generated.h' not in headers:
        raise Failure(f'{include_root}: kernel/brain.h or schemas/config_generated.h not installed')
    for h in headers:
        if h.startswith('schemas/'):
            continue
        with open(os.path.join(include_root, h)) as f:
            if PUBLIC_MARK not in f.read():
                raise Failure(f'{include_root}/{h}: installed, but its comment does not say "{PUBLIC_MARK}"')
    for folder in ('kernel', 'transport', 'recorder', 'replay'):
        for name in sorted(os.listdir(os.path.join(args.source_root, folder))):
            if name.endswith('.h') and f'{folder}/{name}' not in headers:
                with open(os.path.join(args.source_root, folder, name)) as f:
                    if PUBLIC_MARK in f.read():
                        raise Failure(f'{folder}/{name} says it is public but is not installed '
                                      f'({folder}/meson.build: {folder}_public_headers)')
    unit = os.path.join(work, 'all_headers.cc')
    with open(unit, 'w') as f:
        f.writelines(f'#include "{h}"\n' for h in headers)
        f.write('int main() { return 0; }\n')
    flags = run(['pkg-config', '--cflags', 'thalia'], env=env).split()
    run(args.cxx + ['-std=c++20', '-fsyntax-only', unit] + flags)
    print(f'{len(headers)} installed headers: all public, all compile from the installed tree')


def build_with_pkg_config(args, paths, env, work, source, name):
    static = paths['lib'].endswith('.a')
    libs = ['pkg-config', '--libs', 'thalia'] + (['--static'] if static else [])
    cflags = run(['pkg-config', '--cflags', 'thalia'], env=env).split()
    ldflags = run(libs, env=env).split()
    exe = os.path.join(work, name)
    rpath = [] if static else ['-Wl,-rpath,' + os.path.dirname(paths['lib'])]
    run(args.cxx + ['-std=c++20', '-O2', source, '-o', exe] + cflags + ldflags + rpath)
    return exe


def build_with_cmake(args, stage_prefix, work):
    src, build = os.path.join(work, 'cmake-src'), os.path.join(work, 'cmake-build')
    os.makedirs(src)
    shutil.copy(os.path.join(args.source_root, 'examples', 'train_loop.cc'), src)
    with open(os.path.join(src, 'CMakeLists.txt'), 'w') as f:
        f.write(CMAKE_LISTS)
    cmd = ['cmake', '-S', src, '-B', build, '-DCMAKE_PREFIX_PATH=' + stage_prefix,
           '-DCMAKE_BUILD_TYPE=Release', '-DCMAKE_CXX_COMPILER=' + args.cxx[-1]]
    if len(args.cxx) > 1:
        cmd.append('-DCMAKE_CXX_COMPILER_LAUNCHER=' + ';'.join(args.cxx[:-1]))
    run(cmd)
    run(['cmake', '--build', build])
    return os.path.join(build, 'train_loop')


def check_spawn_finds_installed_thalia(args, paths, env, work, run_env, config):
    """A program that never calls MaybeRunWorker, with no variable set, spawns the installed thalia.
    A static libthalia inside a program can only look in the configured <prefix>/bin, which a
    DESTDIR install leaves empty: then only the versions are checked here."""
    static = paths['lib'].endswith('.a')
    probe = build_with_pkg_config(args, paths, env, work,
                                  os.path.join(args.source_root, 'tests', 'install', 'spawn_installed.cc'),
                                  'spawn_installed')
    out = run([probe, '--versions'] if static else [probe, config, '200'], env=run_env)
    versions = re.search(r'^header (\S+) library (\S+)$', out, re.M)
    if not versions or versions.group(1) != args.version or versions.group(2) != args.version:
        raise Failure(f'THALIA_VERSION and LibraryVersion() should both be {args.version}:\n{out}')
    formats = re.search(r'^formats trace (\d+)/(\d+) checkpoint (\d+)/(\d+)$', out, re.M)
    if not formats or formats.group(1) != formats.group(2) or formats.group(3) != formats.group(4):
        raise Failure(f'FormatVersions() differs from the installed headers\' constants:\n{out}')
    if static:
        print('static libthalia: versions checked; spawn not (a DESTDIR copy is not where it looks)')
        return
    loaded = re.search(r'^loaded (.*)$', out, re.M)
    if not loaded or os.path.realpath(loaded.group(1)) != os.path.realpath(paths['lib']):
        raise Failure(f'spawn_installed should have loaded {paths["lib"]}:\n{out}')
    exes = re.findall(r'^worker \d+ (.*)$', out, re.M)
    want = os.path.realpath(paths['exe'])
    if len(exes) != 2 or any(os.path.realpath(e) != want for e in exes):
        raise Failure(f'spawned workers should run {want}, ran {exes}')
    got = digest_of(out, 'spawn_installed')
    expected = digest_of(run([args.thalia, 'run', config, '--until', '200ms', '--workers', '2',
                              '--launch', 'spawn'], env=run_env), 'in-tree thalia run')
    if got != expected:
        raise Failure(f'spawn_installed digest {got}, in-tree thalia run {expected}')
    print(f'spawned workers ran the installed thalia; digest {got} as in the tree')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--build-root', required=True)
    parser.add_argument('--source-root', required=True)
    parser.add_argument('--meson', required=True)
    parser.add_argument('--cxx', nargs='+', required=True)
    parser.add_argument('--version', required=True)
    parser.add_argument('--train-loop', required=True)
    parser.add_argument('--thalia', required=True)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix='thalia-install-test-')
    stage = os.path.join(work, 'stage')
    config = os.path.join(args.source_root, CONFIG)
    # Nothing may point workers at a binary, nor programs at the build tree's libthalia (meson test
    # sets LD_LIBRARY_PATH to it): they must find the installed ones as a user's programs would.
    run_env = {k: v for k, v in os.environ.items() if k not in ('THALIA_WORKER_BINARY', 'LD_LIBRARY_PATH')}
    try:
        run([args.meson, 'install', '-C', args.build_root, '--no-rebuild', '--quiet', '--destdir', stage])
        paths = installed_paths(args, stage)
        options = json.loads(run([args.meson, 'introspect', args.build_root, '--buildoptions']))
        prefix = next(o['value'] for o in options if o['name'] == 'prefix')
        stage_prefix = stage + prefix
        env = dict(run_env, PKG_CONFIG_PATH=os.path.dirname(paths['pc']))
        with open(paths['pc']) as f:
            if not re.search(r'^prefix=\$\{pcfiledir\}', f.read(), re.M):
                raise Failure(f'{paths["pc"]}: prefix is not relative to the file; configure the build '
                              'with -Dpkgconfig.relocatable=true (the default of a fresh setup)')

        check_headers(args, os.path.join(stage_prefix, 'include', 'thalia'), env, work)
        builds = {
            'in-tree': args.train_loop,
            'pkg-config': build_with_pkg_config(args, paths, env, work,
                                                os.path.join(args.source_root, 'examples', 'train_loop.cc'),
                                                'train_loop'),
            'cmake': build_with_cmake(args, stage_prefix, work),
        }
        digests = {name: digest_of(run([exe, config] + TRAIN_ARGS, env=run_env), name)
                   for name, exe in builds.items()}
        print('train_loop ' + ' '.join(TRAIN_ARGS) + ': ' + ', '.join(f'{k} {v}' for k, v in digests.items()))
        if len(set(digests.values())) != 1:
            raise Failure('the out-of-tree builds of train_loop give other digests than the in-tree one')
        check_spawn_finds_installed_thalia(args, paths, env, work, run_env, config)
    except Failure as e:
        print(f'FAIL: {e}\n(files kept in {work})', file=sys.stderr)
        return 1
    shutil.rmtree(work)
    print('install test passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
