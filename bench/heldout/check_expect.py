import sys, re, unicodedata, glob, yaml
def fold(s):
    s = s.lower().replace('\u2019', "'").replace('\u2018', "'")
    s = unicodedata.normalize('NFKD', s)
    s = ''.join(c for c in s if not unicodedata.combining(c))
    s = re.sub(r'[\u2010-\u2015\-]', ' ', s)
    s = re.sub(r'[\W_]+', ' ', s)
    return ' '.join(s.split())
files = sorted(glob.glob('/work/shared/corpus/*.txt'))
lines = []
for f in files:
    for i, l in enumerate(open(f, encoding='utf-8')):
        lines.append((f.split('/')[-1][:3], i+1, fold(l)))
full = ' '.join(fold(open(f, encoding='utf-8').read()) for f in files)
bad = 0
for yf in sys.argv[1:]:
    data = yaml.safe_load(open(yf))
    for c in data:
        for p in c['expect']:
            fp = fold(p)
            nw = len(fp.split())
            hits = [(f, n) for f, n, l in lines if fp in l]
            if fp not in full:
                bad += 1; print('NOT FOUND', yf.split('/')[-1], repr(p))
            elif not (4 <= len(p.split()) <= 10):
                print('LEN', len(p.split()), repr(p))
            if len(hits) > 12:
                print('COMMON', len(hits), repr(p))
print('bad', bad)
