/**
 * The NTLMv2 example of MS-NLMP 4.2.1 and 4.2.4, transcribed from the specification.
 * Shared by the unit tests; not used at run time.
 */
import { hex } from './test-helpers.fixture.js';

export const EXAMPLE = {
  user: 'User',
  domain: 'Domain',
  password: 'Password',
  workstation: 'COMPUTER',
  randomSessionKey: hex('55555555555555555555555555555555'),
  time: hex('0000000000000000'),
  clientChallenge: hex('aaaaaaaaaaaaaaaa'),
  serverChallenge: hex('0123456789abcdef'),
  plaintext: hex('50 00 6c 00 61 00 69 00 6e 00 74 00 65 00 78 00 74 00'),
  /** 4.2.4: the AUTHENTICATE flags (the CHALLENGE has 0xe28a8233). */
  flags: 0xe2888235,
  version: { major: 5, minor: 1, build: 2600, revision: 15 },
  /** TargetInfo: MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server", MsvAvEOL. */
  targetInfo: hex(`02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00
                   01 00 0c 00 53 00 65 00 72 00 76 00 65 00 72 00 00 00 00 00`),
} as const;

export const EXPECTED = {
  /** 4.2.4.1.1 */
  ntowfv2: hex('0c 86 8a 40 3b fd 7a 93 a3 00 1e f2 2e f0 2e 3f'),
  /** 4.2.4.1.2 */
  sessionBaseKey: hex('8d e4 0c ca db c1 4a 82 f1 5c b0 ad 0d e9 5c a3'),
  /** 4.2.4.1.3 temp */
  temp: hex(`01 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00
             aa aa aa aa aa aa aa aa 00 00 00 00 02 00 0c 00
             44 00 6f 00 6d 00 61 00 69 00 6e 00 01 00 0c 00
             53 00 65 00 72 00 76 00 65 00 72 00 00 00 00 00
             00 00 00 00`),
  /** 4.2.4.2.1 */
  lmv2Response: hex('86 c3 50 97 ac 9c ec 10 25 54 76 4a 57 cc cc 19 aa aa aa aa aa aa aa aa'),
  /** 4.2.4.2.2: the NTProofStr that starts the NTLMv2 response */
  ntProofStr: hex('68 cd 0a b8 51 e5 1c 96 aa bc 92 7b eb ef 6a 1c'),
  /** 4.2.4.2.3 */
  encryptedSessionKey: hex('c5 da d2 54 4f c9 79 90 94 ce 1c e9 0b c9 d0 3e'),
  /** 4.2.4.3 */
  challengeMessage: hex(`4e 54 4c 4d 53 53 50 00 02 00 00 00 0c 00 0c 00
                         38 00 00 00 33 82 8a e2 01 23 45 67 89 ab cd ef
                         00 00 00 00 00 00 00 00 24 00 24 00 44 00 00 00
                         06 00 70 17 00 00 00 0f 53 00 65 00 72 00 76 00
                         65 00 72 00 02 00 0c 00 44 00 6f 00 6d 00 61 00
                         69 00 6e 00 01 00 0c 00 53 00 65 00 72 00 76 00
                         65 00 72 00 00 00 00 00`),
  authenticateMessage: hex(`4e 54 4c 4d 53 53 50 00 03 00 00 00 18 00 18 00
                            6c 00 00 00 54 00 54 00 84 00 00 00 0c 00 0c 00
                            48 00 00 00 08 00 08 00 54 00 00 00 10 00 10 00
                            5c 00 00 00 10 00 10 00 d8 00 00 00 35 82 88 e2
                            05 01 28 0a 00 00 00 0f 44 00 6f 00 6d 00 61 00
                            69 00 6e 00 55 00 73 00 65 00 72 00 43 00 4f 00
                            4d 00 50 00 55 00 54 00 45 00 52 00 86 c3 50 97
                            ac 9c ec 10 25 54 76 4a 57 cc cc 19 aa aa aa aa
                            aa aa aa aa 68 cd 0a b8 51 e5 1c 96 aa bc 92 7b
                            eb ef 6a 1c 01 01 00 00 00 00 00 00 00 00 00 00
                            00 00 00 00 aa aa aa aa aa aa aa aa 00 00 00 00
                            02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00
                            01 00 0c 00 53 00 65 00 72 00 76 00 65 00 72 00
                            00 00 00 00 00 00 00 00 c5 da d2 54 4f c9 79 90
                            94 ce 1c e9 0b c9 d0 3e`),
  /** 4.2.4.4 GSS_WrapEx */
  sealingKey: hex('59 f6 00 97 3c c4 96 0a 25 48 0a 7c 19 6e 4c 58'),
  signingKey: hex('47 88 dc 86 1b 47 82 f3 5d 43 fd 98 fe 1a 2d 39'),
  sealedPlaintext: hex('54 e5 01 65 bf 19 36 dc 99 60 20 c1 81 1b 0f 06 fb 5f'),
  signature: hex('01 00 00 00 7f b3 8e c5 c5 5d 49 76 00 00 00 00'),
} as const;
