"""The x86 approximation instructions Eigen's float32 packets use: rcpps (_mm256_rcp_ps) and
rsqrtps (_mm256_rsqrt_ps), as tables measured on an Intel Xeon (Sapphire Rapids class, AVX).

On that CPU both results depend only on the top 11 mantissa bits (and, for rsqrt, on the
exponent's parity); the exponent then shifts the result. Results that would be denormal are 0,
denormal inputs read as 0 (rcp(0) = inf, rsqrt(+-0) = +-inf), rsqrt of a negative number is
the default NaN 0xffc00000, NaN inputs come back quieted. AMD CPUs compute different
approximations (Intel documents only a relative error < 1.5 * 2^-12), and TF's float32
Reciprocal/Rsqrt/Atan2 packets follow the CPU: the golden cases made on another x86 machine
differ from this machine's TF by up to 3 ulp there. So `rcp`/`rsqrt` run the CPU's own
instruction (native.py), as TF does on the same machine; the tables are the fallback where
executable memory is refused, and what BLOCKGRAPH_APPROX=table forces (the tests do).
The tables: 2048 rcp(1.m) bit patterns, then 2 x 2048 rsqrt(2^p * 1.m) (zlib, base64).
"""
from __future__ import annotations

import base64
import os
import zlib

import numpy as np

from . import native
from .prims import F32, I32, bits32, from_bits32

_TABLES = (
    "eNpN2zsU7O5e1vF4z1GPxHtEkQiKERGDcjQchBMQPUEOEJFLlItRUCMgBBEIFyVlypQpU6ZMmTJlypQpp5xyyin9vmue3/q/"
    "xafamffNzNprr1083+D1x18LLmyY0KFChgiv/8efY8OEDhUyRHj/368FN3bM6FEjR4z3H/Hn2DFjQIMCCQI8/vBrwYEFI1qU"
    "SBHi+QdfC05smNChQoYI79/nDuyY0aNBgQQBHj1nYMWIFhUyRHj9Hmdgx4weDQokCPD8Xc7AigkdKmSI8f4dzsCBBQNalEgR"
    "4fV/+D2xY0aPBgUShHj+Ns9gw4QeNXIkCPD837wLVkzoUCNHggCP3+IZrJjQoUaOGAEeHc9gxYQONXIkCPD8TZ7Bhgk9ahRI"
    "EOL5G7wzNszo0aBAihCv/8Uz2LFgQIsSGSK8f53fEAdWjOhQIUeCAM9f452wYUaPBgVSRHj9KmfhwIIRHSrkSBDg+T85Cxtm"
    "9GhQIkOEd8tvhQMrJnSoUSBBiNf/4E7sWDCiQ4UcCQI8/zu/BXbMGNCiQo4YAZ7/jeewYcaAFhUyxAjw/BW+AzbMGNCiQoYY"
    "AZ6/zHnYMWNAiwo5EgR4/leew44FIzpUyJEgxOu/8H1xYMWEDjUKpIjwbvj9cGLDjAENSmSIEeD5n7kbOxaM6FCjQIoI71/i"
    "TJzYMGNAiwoZYgR4/iJnYseCER1qFMgQI8DzF3gWOxaM6FCjQIoI75/nfpzYMGNAiwo5EoR4/yeexYkNMwa0qJAjQYj3f+RZ"
    "nNgwY0CLCjlSRHjXPIsTG2YM6FCjQIoI75/jWVzYsWBEhxolMsQI8PxZnsWBFRN6NKiQI0GI189wNk5smDGiQ40CKWIEeP40"
    "Z+PAigk9WlTIkSDC+z9wNk7sWDCiQ4MSGWKEeP0UfydxYsOMAR1qFMgQI8Dr3/M8DmyYMaBDjQIpYgR4VjyPAytmDOhQo0CG"
    "GAFeP8nzOLBhxoAONUpkiBHi9RN8X5zYsGBEjwYlciSI8P5xnseFHSsm9GhRoUCKGAGe3+CdcGDDjBEdGpTIkCDE+8e4Axd2"
    "rJgwoEWNAhlihHj9O+7AiQ0LRvRoUCFHiggBnj/KZ3Biw4IRPRpUyJEiQoBnyWdwYMOMET0aVMiRIkKA59f5DE5sWDCiR4MK"
    "BVLECPD6t3wGJ3YsmNCjRY0CGWKEeP8bfjdc2LFixoAODUrkSBAhwPNHuAsnNiwY0aNFhQIZYoR4/2vuwoUDK2aM6NCgQo4U"
    "MQK8fpjP4cSOFRMGdGhQIkeKCAFeP8Q74sSOFRMGdKhRIkeKCAFeBZ/DiR0rJgzo0KBEjhQxAry+xnviwo4VM0Z0aFChQIoY"
    "Id4/yO+JCwc2LBjRo0WNEhkSRAjw+gHeFSd2rJgxoEODCgVSxAjx/lfciRsHNiyYMKBDjRI5UsQI8fp+vicuHNiwYEKPFjVK"
    "5EgRI8Drq3wWFw5sWDCiR4saJXKkiBHi9X18FhcObFgwYUCHGiVypIgR4p3zfXHjxI4VEwZ0aFChQIYEEQK8/iV348KBFTNG"
    "9GhRo0SOFDFCvP8Fd+PGiR0rZozo0aJGiQwJIgR4fYW7ceHAhgUTBnRoUKFAhgQRAry+l8/jwoENCyYM6NCgQoEMCSIEeP1z"
    "Po8LJ3asmDGiR4saJXKkiBHi/c/4/rhxYseKGSN6tGhQoUCGBBECvL6Hd8CFAxsWTBjQo0WNEjlSxAjxzngH3DhxYMOCCQM6"
    "NKhQIEOKGCHe/5QzcOPEjhULJgzo0KBCgQwpYoR4fzdn4MaJHRsWTBjQoUGFEjlSxAjx/if8HnjgwoENCyaM6NGiRokcGRJE"
    "CNwZ38UZuHFix4oZEwZ0aFChQI4UMUK8/zHn4IELBzasmDGiR4sGFQpkSBAjxPs7+V3wwIUDGxbMGNGjRYMKBTIkiBHi/Y84"
    "Bw9cOLBhxYwRPTo0qFAgR4oYIQK8Us7BhRM7VsyYMKBDixolcmRIEIF/6IP3P+SdcOPCgQ0LZozo0aFBhQI5UsSIEOD1HZyF"
    "Gyd2bFgwYUSPFg0qFMiRIkaIAK9/wPfDjRM7NiyYMKJHiwYVCuRIESNCgNff571w48SBDQtmjOjRoUGFEjkyJIgQ4v3tnIUH"
    "LhzYsWLBhAE9WtSoUCBDihgRAry+jfNw48KBDStmjBjQoUWNEgUypIgRIsDr73Eebpw4sGHFjBEDOrSoUaJAhhQxQgR4JZyH"
    "GxcObFgxY8KAHi1qVCiQI0WCCAHe38p5eODCiR0bFkwY0aNDgxolCmRIECNEgNff5UzcuHBgx4oFEwb0aNGgQokcGRLECBHg"
    "9S2ciRsXDuxYsWDCgB4tGlQokSNDghghArz+DmfixoUDO1YsmDCiR4cGNUoUyJAiRoQA77/NuXjgxokDG1bMmDCgR4sGFUrk"
    "yJAgRogA72/mXfHAhRM7NiyYMWJAhxYNKpTIkSFBjBAB3n+Lc/HAhRM7NiyYMWFAjxYNKpTIkSFFjAgB3jHn4oEbJw5sWDFj"
    "wogeHRrUqFAgR4oEEULwH+Hg9Tc5GzcunNixYcGMCQN6tGhQo0SBDCkSRAjx/hucjSduXDixY8OCGRMG9GjRoEaJAjlSJIgQ"
    "InBn/3XOxgMXTuzYsGLGhBE9OrSoUaFAjgwJYkQI8P5rnI8Hblw4sGPFghkjBvRo0aBGiQI5UiSIESLA+6/y7njgxokDO1Ys"
    "mDFiQI8WDWqUKJAjRYIYIQK8/wrn44EbFw7s2LBgxoQBPTo0qFGhQI4MKWJECPH+y/w+eOLGhRMHNqxYMGHEgB4tGtQoUSBH"
    "igQxIgR4R9yBJ25cOLFjw4oFE0YM6NCiQY0SBXJkSBAjQoD3N3EHnrhx4cSBDSsWzBgxoEeHBjUqlMiRIUWCCCECvP8Sd+CB"
    "GxcO7NiwYsaEEQM6tGhQo0SBHBlSxIgQIsDry9yDB26cOLBjw4oZE0YM6NCiQY0KBXJkSBEjQogA77/IPXjgxoUTOzasWDBj"
    "xIAeHRrUqFCiQIYUCWJECPD+C3wnPPHAjRMHdmxYMWPCiAE9WjSoUaFEgQwpEsSIEOD957kLTzxw48SBHRtWzJgwYkCPDg1q"
    "VChRIEeKBDEihAjcXV/iLjxw48KJAxtWLJgxYUSPDi0a1KhQIkeGFAliRAjwDrkPTzxw48KBHRtWLJgxYUCPDi0a1KhQIkeG"
    "FAliRAgRuPv+HPfhgRsXThzYsGLBjAkjBvTo0KBGhRIFcmRIESNCiADvP8udeOKBGycO7NiwYsGMCSMGdGjRoEaFEgVyZEgQ"
    "I0KIAO8/w5144oEbFw7s2LBiwYwJIwb06NCgRoUSBXJkSJEgRoQQ7z/NnXjigRsXThzYsWHFghkjBvTo0KJBjQolCuTIkCJB"
    "jBAB3n+Ke/HEAzcunDiwY8OKBTMmjOjRoUWDGhVKFMiRIUWCGBFCBHj/Se7GEzcunDiwY8OKBTMmjBjQo0OLBjUqlCiQI0OK"
    "BDEiBHj/Ce7FEw/cuHDiwI4NKxbMmDBiQI8OLRrUqFCiQI4MKRLEiBAiwDvgfjzxwI0LJw7s2LBiwYwJIwb06NCiQY0KJQrk"
    "yJAiQYwIobv3jz8ubwdgWwDbA9gmwHYBtg2wfYBtBGwnYFsB2ws4teQSi9sP2IbAdgS2JbA9gW0KbFfgJBLI448+Dllk8DYH"
    "TimphPL8w49TNpmkk0oyieX9Bx+37LLIII0Ukkooz9//OGWTSTqpJZdYAm/v4ByyetsH2z/YBsJ2ELaFcN6/93F7uwhnkUFa"
    "KSWVSF6/+3HLLrMM0kgpqUTy+p2PS3aZZZBGSm93YdsL2184t+yyyCCtlJJJJO/f/rjlkFVG6aSSXGIJvD2HbTqcTSbppZFC"
    "Ugnl9Vsft+yyyCitVJJJ7G1DbB9iGxFnk0l6aaSUVCJ5/+bHLYesMkontbcxsZ2JbU2c12983LLLIqN0UkkuiYTeNsX2KbZR"
    "sZ2KM0onleSSSCivX/+4ZZdFRm/b4tRSSCKhvH7t45ZDVpmkl1oKbxNjuxjn/asfDzllk1kGaaWUTGIJvC2Nc8kui4zSSS2F"
    "pBJ5uxvb3jinbDLLIK1UkkvibXRsp2NbHeeQVSbppZFSMokl8HY9zi2HrDJJL42UkknsbYBsB2RbIOeQVSbppZFSMm8v5ITy"
    "+pWPWw5ZZZJeWm9X5OSSSCivX/54yCmbzN7+yOmklkJSiSTw9km2UbKdkm2VnEl6aaSU3Nsx2ZbJ9kzOQ07ZZJZROm/vZJsn"
    "J5NYAnk1H7ccssrsbaOcVmopJJXY203Zdsq55ZBVZhmkldrbV9nGyoklkOcvfdxyyCqzt8NyOqmlkMzbZ9lGy3n94sctp2wy"
    "y+htuJxGSsklkVDev/DxkMvbejmrTNJLK5UU3hbMiSWQ189/3HJ6OzHbijmjdNJIKbm3I3MicXsy5ymXHLLK7G3NnE5qKSWT"
    "xNuh2RbNecolh6wyezs1p5NaSskkkcjbsTlPueSQVWYZpZNGSskl9fZvTiDPn/u45ZRNFm8f5/TSSiWFpBJLKK+f/XjIJbus"
    "MssgndRSSu7t7pxIAnn+zMctp7fJcxaZpJdWam+v52SSSCTvn/54yi2HbLLIKL2383NqKSSTxNv/2QbQecoth2yyyCS9tFJL"
    "6e0GnUQiCeT5Ux+3tyl0dlllksHbGjqNlJJLKrGE4raIzkMuObx9om0UnVF6aaX2totOJolEEnibRts1OqfssnpbR9s72ubR"
    "aaSSwttBOomE8v7Jj6fccsouq0wyeNtJp5FKCskkkVDeP/HxlFtO2WWVWUbppJFKCskk8faZTiCvH/94eJtN223adtOZZZTe"
    "23M6tZSSS+rtPJ1Q3t/4eH7ji+2nc8oui0wySOdtQ51KCsm8vagTSSCvH/t4eDtS55BNFpm8fanTSSOVFN7u1EkkkkDcFtV5"
    "yCWHbN5G1ZlkkE4ab7vqFJJJIpG3aXVeP/rxkEsO2WWVWUZv/+q0UkspubeLdWIJ5V1+PMsv9rLOKbtsssgkg3TSeNtap5BM"
    "Eom8za3z/vrH8+tfbHBth+vsssoso7fPdVppvL2ubXadTBKJJPC2vM5Dbm/ba/teZ5VZRumlk0YqKbwtsJNIJKG3D3aecssp"
    "u7cbdhaZZPC2xLYndiopvX2xk0osobx/5OMlD7nkkE1WmWX09sm2UXYaqbzNsu2WnURib8dsW2bnKbdc3r7Z2WSRSUbppZVa"
    "Kikkk0QiCeX9wx9PueWSQzZZZJZRemmlkUoKySSVWEJ5/9DHSx5yySG7t812Zhll8PbaTiO1t9+2DbftuJ1EIm/X7byLj6fc"
    "3tbbOWSTRWYZpZdWGqmkkNzbidtW3Ikk8LbjzlNuOWWXTRaZZJReWmm83bltz51cUm+L7kQSyOsHP55yyymHt1m33bozyyiD"
    "dNJI7W3bnVwyb+tue3cnlPcPfLzkIZec3ibedvHOIpMM0ksrjbedt/28k0sqiUQSiNvX28bedvbOJYfsssosk7fFd3pppZZK"
    "Csm9vb6TSCSBvL//4ykPb9Nvu35nl1UWb+vvjNJ723+nkUpKrwdwMkkkklDeX/14ffWLZsC55ZTD6wisJXBmGWWQTlqvNXAq"
    "KST3+gMnkUgCeX/fx1MeXqPgnLLL5nULziyjDF7L4LRSSyWF5F7rYL2DE0kgrn+wBsJ5yCWn10U4mywyyyiD1004rdRSeS2F"
    "k0sqicQSSuD1Fs5Tbrm8BsPZZZVFJhm9RsPppJHa6zacQjJJJZFIQq/tcF7ykNvrPZxDNlm9BsSZZPSaEKeTRmqvE3EKySSV"
    "xGtInFDeX/l4feWLrsS55fI6E2eXVRavPXFGGbwWxWmllsrrU5xcMq9XcWIJ5f29Hw+vYXF2WWSUzutZnFIyiSXw2hbnlkNW"
    "r3FxBmmlktzrXZxIXPNi3YtzyS6LTNJL43UwTi6JhPL+no+HnLLLIqP00kjpdTJOIqHXyzgPOWWXxWtnnF4ar6FxckklEtfS"
    "WE/jXHLIKpPX1jit1FJ4nU2mzsYJ5PXdH7fX3Jxqbqy7cUbppfEanEoNjpNIJK7FcZ5yeU2Os8osg3RSe42OdTq5Oh1rdZz3"
    "d3085ZJDVq/dmdXuWL/j1FJKLolE4noe5ymX1/VY27Op7bG+x+mk8TofJ5dUIgnk9Z0ft5yyyyKT9F4H5NRSeD2QNUGJmiDr"
    "gqwNeqoNsj7IGqFNjZB1QtYK9WqFrBeyZqhQM2TdkLVDodoh64esIXIOWb2WyBmlk0YqKSSVWEJxjZHzkMtrjaw32tQbWXNk"
    "3ZHTSuX1R04miYTy/o6Pp9cjWZN0qkmyLsnaJGeQTmopJfdaJeuVYvVK1ixZt+Rccsgms4xex2Qtk1NLKZkkEnltk/VNzkMu"
    "2WWV2eudrHlyWqmllMzrn6yBcgJ5ffvHw+uhrIlyNllklN7ro6yRckrJJfV6KSeU97d9PL12yjlll1UmGbyWymmkksLrqpxE"
    "Igm8xsp5yCWH11s5i0wyeO2V00glhddhOYlEEnhNlvOQy2uzrM9yFpm8TsvppJHKa7acTBKv3bJ+y3l968dTbjm9nstZZZbR"
    "a7ucVmqv8XJySSX2ei9rvqz7ch5yef2Xs8nidWDWgjmdNFJL6bVhTiqx14g572/5eMpDLq8ZczZZvHbM+jGnk1ZqKb2ezEkl"
    "9roya8usL3MecnmdmbPJKrOMXnfmtFJLJYXXoTmJRBKKa9Kcp9xem2Z9mjVqziKT16pZr2bNmlNL6bVr1q9Zw+ZEEsjrmz+e"
    "csvpdW3Wtlnf5kwySC+t1FJKIZnXvjmRhOIaOOvgnFsuOWTzujhr45xReumk8Vo5p5BcUq+bs3bO+jnnFX88vI7OWjpnl00W"
    "mby2zvo6p5Xa6+ystXMySSWW0GvvrL9zHnLL6bV41uNZk7eoyXNG6b0+zxo9p5JCckkllkgCcf3eW/2eNXzW8TmHbLLKLKMM"
    "0kkrtdf5WevnZJJKLKHX/ln/91L/59xyyiGbLDLLKIN00kgtpRSSSSqxhBLISw3hU26vJbSe0NlklVkmGbzG0DrDVp2hU0nh"
    "NYfWHVp76EQSimsQnZc85JJTdtlk8fpEaxStU3Q6aaWWSgqvXbR+MVW/6EQSeC2j9YzWND7UNDqn7F7faI2jdY7OKIN00krt"
    "tY/WP1oDmauBdBKJvB7SmkjrIq2NtD7SGslLjaSzy+r1ktZMWjc5qpt0Omm8htI6SmspnUxSr6tM1FU6obi+0hpL5yG3nHLI"
    "5nWX1l5af2kNptNLJ43XYzqVFF6b6aSSSCShBPLymk3rNq3dvNRuOrtssngtp/Wc1nRa1+m00kjlNZ5OIZnXezqxRF77Gar9"
    "dF7y8DpQa0GtB7UmdFcT6iwyy+g1ok4vrdeLOpWUXjtaqB21ftRJJPJaUuf95Y/Xl7/oSp/qSp1LTtm9ztRaU+tNrTmd1Jw6"
    "vXTSeA2qdajWolqPak2qk0js9amR+lRrVJ2XPLxe1ZpV55Dd61c39avWsDqTDF7Pak2rda3WtlrfWqlvdXLJvN41Ve9qzasT"
    "imtfrX+1BvapBta55JTda2Kti3UWmbxG1jpZp5PWa2atm63VzVo76+SSeh2ttbTW01pTa12ttbUvtbXW1zqXnLJ7va01t9bd"
    "Wntr/a01uIMaXKeVxmtyazW51uVam+tkknidrrW61us67y99vL70Rbtr/e5D/a41vNbxOrusXtNrXa+1vc4gvdf5WuvbqvW1"
    "3teaX6eQzOt/rQG2DthaYOuBrQm2Ltja4KfaYOuDnVMOrxfe1QtbM2zdsLXD1g9bQ2wdsbXE1hM36omtKXYKyb3GOFNjbJ2x"
    "tcbWG1tzbN2xtcfWH1uDbB3ypQ7Z2WXzumRrkxe1ydYnW6NsnbK1yk4rtdctW7ts/bI1zLkaZieR2GuarWu2ttl5eX2zNc7W"
    "OTuXnLJ73bO1z9Y/WwNtHfSkDtrppfO6aGujrY+u1UdbI22dtLXSTiqJ107Haqetn7aG2jpqa6mtp7am2jnl8Ppqa6yts7bW"
    "2nrrWb21NdfWXVt77bTSeC12rRbbemxrsq3Ltjbb+mxrtK3TdgJxvbY129ZtW7tt/bY13NZxW8t9qOW2ntuabuu6nUlGr/O2"
    "1tt67069tzXf1n1b+239tzXg1oFbC249uBNJ6LXh1odbI26duLXi1otbM27duLXjh9px68etIbeO3Fpy68mdQXqvL7fG3Dpz"
    "a81rtebWm1tzbt25tefWn1uDbh26tejWo1uTbl26tenWp1ujbp26terWq1uzbt26tevWr1vDbh27tezWs1vTbl27te2N2nbr"
    "261xt87dWnfr3a15t+7d2ncnlMBr4a2Htybeunhr462Pt0beOnlr5a2X39TLWzNv3by189bPW0NvHb219NbTW1NvXb219dbX"
    "W2Nvnb219tbbW3Nv3b2199bfW4NvHb61+NbjW5NvXb61+dbnW6Nvnb61+tbrW7Nv3b61+9bvW8NvHb+1/NbzW9NvXb+1/db3"
    "W+Nvnb+1/tb7W/Nv3b+1//j/iltUYA=="
)
_T = np.frombuffer(zlib.decompress(base64.b64decode("".join(_TABLES))), dtype="<u4").astype(I32)
RCP_TAB = _T[:2048].copy()
RSQRT_TAB = _T[2048:].copy()          # index p * 2048 + m11
SIGN = I32(-2147483648)


def _hw(name, a):
    """Run the CPU's own rcpps/rsqrtps (native.py) unless BLOCKGRAPH_APPROX=table."""
    if os.environ.get("BLOCKGRAPH_APPROX", "") == "table":
        return None
    fn = native.routine(name)
    if fn is None:
        return None
    a = np.ascontiguousarray(a, F32).ravel()
    n = a.size
    buf = np.zeros(n + (-n) % 4, F32)
    buf[:n] = a
    out = np.empty_like(buf)
    fn(buf.ctypes.data, out.ctypes.data, buf.size)
    return out[:n]


def rcp(a):
    """rcpps on float32 values (already DAZ'd): this CPU's, or the Intel table."""
    hw = _hw("rcp4", a)
    if hw is not None:
        return hw
    ib = bits32(a)
    sign = ib & SIGN
    be = (ib >> 23) & 255
    m11 = (ib >> 12) & 2047
    t = RCP_TAB[m11]
    ef = ((t >> 23) & 255) - (be - 127)
    r = np.where(ef > 0, (t & 8388607) | (ef << 23), 0) | sign
    r = np.where(be == 0, sign | 2139095040, r)                  # +-0 -> +-inf
    r = np.where(be == 255, np.where((ib & 8388607) == 0, sign, ib | 4194304), r)
    return from_bits32(r)


def rsqrt(a):
    """rsqrtps on float32 values (already DAZ'd): this CPU's, or the Intel table."""
    hw = _hw("rsqrt4", a)
    if hw is not None:
        return hw
    ib = bits32(a)
    sign = ib & SIGN
    be = (ib >> 23) & 255
    e = be - 127
    p = e & 1
    h = (e - p) >> 1
    t = RSQRT_TAB[p * 2048 + ((ib >> 12) & 2047)]
    r = t - (h << 23)
    r = np.where(be == 0, sign | 2139095040, r)
    r = np.where(sign != 0, -4194304, r)
    r = np.where((be == 0) & (sign != 0), -8388608, r)           # -0, -denormal -> -inf
    r = np.where(be == 255, np.where((ib & 8388607) == 0, np.where(sign != 0, -4194304, 0),
                                      ib | 4194304), r)
    return from_bits32(r)
