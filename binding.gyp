# Native engine addon (DESIGN §4): our C++ (native/src) over blst 0.3.10, whose C and
# assembly sources scripts/install-native.mjs extracts from the integrity-pinned tarball
# native/vendor/chainsafe-blst-0.2.11.tgz into native/blst/ before node-gyp runs.
#
# blst 0.3.10 has no run-time CPU dispatch, so we build it twice and choose at load time:
#   ibaked_native      portable blst (-D__BLST_PORTABLE__: mulq code, runs on any x86-64)
#   ibaked_native_adx  blst with -D__ADX__ (mulx/adcx/adox code, needs BMI2+ADX)
# src/engine/native/addon.ts loads the portable one, asks it for CPUID, and switches to the
# ADX one when the CPU has both extensions. On non-x86 CPUs both are the same portable code.
{
  'variables': {
    'blst_dir': 'native/blst',
    'sanitize%': 0,
  },
  'target_defaults': {
    'cflags': ['-O2', '-fPIC', '-fno-strict-aliasing'],
    'cflags!': ['-O3', '-Os'],
    'conditions': [
      ['sanitize==1', {
        'cflags': ['-O1', '-g', '-fno-omit-frame-pointer', '-fsanitize=address,undefined', '-fno-sanitize-recover=undefined'],
        'cflags_cc': ['-fsanitize=address,undefined'],
        'ldflags': ['-fsanitize=address,undefined'],
      }],
    ],
  },
  'targets': [
    {
      'target_name': 'blst_portable',
      'type': 'static_library',
      'sources': ['<(blst_dir)/src/server.c', '<(blst_dir)/build/assembly.S'],
      'defines': ['__BLST_PORTABLE__'],
      'cflags': ['-fno-builtin', '-Wno-unused-function', '-Wno-unused-parameter'],
      'xcode_settings': {'OTHER_CFLAGS': ['-fno-builtin', '-D__BLST_PORTABLE__']},
    },
    {
      'target_name': 'blst_adx',
      'type': 'static_library',
      'sources': ['<(blst_dir)/src/server.c', '<(blst_dir)/build/assembly.S'],
      'conditions': [
        ['target_arch=="x64"', {'defines': ['__ADX__']}, {'defines': ['__BLST_PORTABLE__']}],
      ],
      'cflags': ['-fno-builtin', '-Wno-unused-function', '-Wno-unused-parameter'],
    },
    {
      'target_name': 'ibaked_native',
      'sources': [
        'native/src/addon.cc',
        'native/src/codec.cc',
        'native/src/ops.cc',
        'native/src/gt_exp.cc',
        'native/src/g1_table.cc',
        'native/src/miller.cc',
        'native/src/par.cc',
        'native/src/sha256.cc',
        'native/src/ibe_hash.cc',
        'native/src/bf_core.cc',
        'native/src/p256.cc',
        'native/src/sha256_blocks.cc',
        'native/src/mikey_prf.cc',
      ],
      'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")", '<(blst_dir)/bindings'],
      'defines': ['NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS'],
      'cflags!': ['-fno-exceptions'],
      'cflags_cc!': ['-fno-exceptions', '-fno-rtti'],
      'cflags_cc': ['-std=c++17', '-O2', '-pthread'],
      # -z nodelete: the par.cc helper thread sleeps inside this library's code, so the
      # library must never be unmapped (Node never unloads addons; this makes it certain).
      'ldflags': ['-pthread', '-Wl,-z,nodelete'],
      'libraries': ['-ldl'],  # p256.cc finds the process's OpenSSL with dlsym
      'xcode_settings': {'GCC_ENABLE_CPP_EXCEPTIONS': 'YES', 'CLANG_CXX_LANGUAGE_STANDARD': 'c++17'},
      'dependencies': ['blst_portable'],
    },
    {
      'target_name': 'ibaked_native_adx',
      'sources': [
        'native/src/addon.cc',
        'native/src/codec.cc',
        'native/src/ops.cc',
        'native/src/gt_exp.cc',
        'native/src/g1_table.cc',
        'native/src/miller.cc',
        'native/src/par.cc',
        'native/src/sha256.cc',
        'native/src/ibe_hash.cc',
        'native/src/bf_core.cc',
        'native/src/p256.cc',
        'native/src/sha256_blocks.cc',
        'native/src/mikey_prf.cc',
      ],
      'include_dirs': ["<!(node -p \"require('node-addon-api').include_dir\")", '<(blst_dir)/bindings'],
      'defines': ['NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS', 'IBAKED_VARIANT_ADX'],
      'cflags!': ['-fno-exceptions'],
      'cflags_cc!': ['-fno-exceptions', '-fno-rtti'],
      'cflags_cc': ['-std=c++17', '-O2', '-pthread'],
      # -z nodelete: the par.cc helper thread sleeps inside this library's code, so the
      # library must never be unmapped (Node never unloads addons; this makes it certain).
      'ldflags': ['-pthread', '-Wl,-z,nodelete'],
      'libraries': ['-ldl'],  # p256.cc finds the process's OpenSSL with dlsym
      'xcode_settings': {'GCC_ENABLE_CPP_EXCEPTIONS': 'YES', 'CLANG_CXX_LANGUAGE_STANDARD': 'c++17'},
      'dependencies': ['blst_adx'],
    },
    {
      # SO_PEERCRED reader for the daemon's exchange ownership: no crypto, loaded on its own
      # (src/daemon/peercred.ts), optional (the daemon falls back when it is missing).
      'target_name': 'ibaked_peercred',
      'sources': ['native/src/peercred.cc'],
      'defines': ['NAPI_VERSION=8'],
      'cflags_cc': ['-std=c++17', '-O2'],
    },
    {
      # The router thread's scheduling policy under load (src/daemon/router-sched.ts): no
      # crypto, loaded on its own, optional (without it the policy stays as it is).
      'target_name': 'ibaked_sched',
      'sources': ['native/src/sched.cc'],
      'defines': ['NAPI_VERSION=8'],
      'cflags_cc': ['-std=c++17', '-O2'],
    },
  ],
}
