/* token_vectors.h: made by Django 3.2.25 with
 *   /usr/bin/python3 t/unit/token_vectors.py > t/unit/token_vectors.h
 * (see there). Do not edit. */
#define TV_T 1700000000
#define TV_K1 "k1-!@#$%^&*(-_=+)-old-key"
#define TV_K2 "k2-rotated-in-key"
#define TV_K3 "k3-not-in-the-file"
#define TV_SALT "orderstream"
#define TV_EXPORT "/my/orders.csv"
#define TV_MAX_AGE 60
static const struct tv {
    const char *name, *token;
    int after;
    os_token_result want;
    const char *claim, *value;
} tvs[] = {
    { "basic",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiIsImVtYWlsIjoiYW5uQGV4YW1wbGUuY29tIn0:1r31eq:ILxtWZxcKFt4tnwPfzEG7ahPPPXJpA2jxDzbgJAqYgE",
      10, OS_TOKEN_VALID, "email", "ann@example.com" },
    { "age equal to max-age",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiJ9:1r31eq:oezW8i_V2iUwmERiL8ryWnYKfXxo7CBsiubpqBE0bws",
      60, OS_TOKEN_VALID, NULL, NULL },
    { "a second past max-age",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiJ9:1r31eq:oezW8i_V2iUwmERiL8ryWnYKfXxo7CBsiubpqBE0bws",
      61, OS_TOKEN_EXPIRED, NULL, NULL },
    { "unicode claim",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiIsIm5hbWUiOiJab1x1MDBlYiBcdTI3MTMifQ:1r31eq:pi-Mi9T7sVofoQQk8EZaE9snp1pfko0RW6Q8ITDbsOE",
      0, OS_TOKEN_VALID, "name", "Zo\303\253 \342\234\223" },
    { "integer, bool, null",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiIsImlkIjo0MiwidmlwIjp0cnVlLCJub3RlIjpudWxsfQ:1r31eq:cGnriX0sw871N4rw6qxuFWNNl9VqxaQcEV6HR4IPJA8",
      0, OS_TOKEN_VALID, "id", "42" },
    { "bool false",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiIsInZpcCI6ZmFsc2V9:1r31eq:k2X4sFnt9yvgD2pN6BlPrCM7aCSUvWkPYbhFAWxK9rs",
      0, OS_TOKEN_VALID, "vip", "false" },
    { "rotated-in key",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiJ9:1r31eq:9PP7h0TJVSKUDBfOz1nltre-ECrXLZ-soItKSqL_DMQ",
      0, OS_TOKEN_VALID, NULL, NULL },
    { "key not in the file",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiJ9:1r31eq:KJYXzIu9H3PrqbJiOI1Qx9v6fzOiBYFVng0wrti-hJs",
      0, OS_TOKEN_REFUSED, NULL, NULL },
    { "wrong salt",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiJ9:1r31eq:CBp05_2stj_JRPaPZk7joNjkksKluPj5CBQdD5kKkW0",
      0, OS_TOKEN_REFUSED, NULL, NULL },
    { "compressed",
      ".eJyrVkqtKMgvKlGyUtLPrdTPL0pJLSrWSy4uU9JRKkhMAQpXDBOgVAsALlppjQ:1r31eq:kezwr2nvY7H45L2cvsWxEyzRUb69sr3lpDnlSJyqgac",
      0, OS_TOKEN_REFUSED, NULL, NULL },
    { "nested object",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiIsIngiOnsiYSI6MX19:1r31eq:WgOwJhp19cDML4L8y3NbjNBb0xhDw4B3sV9nPufIFII",
      0, OS_TOKEN_REFUSED, NULL, NULL },
    { "nested list",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiIsIngiOlsxXX0:1r31eq:PKQ7bdEgApP39aORBVIh739nH0GpUlHPBcPT0OfPX0g",
      0, OS_TOKEN_REFUSED, NULL, NULL },
    { "not an object",
      "WyIvbXkvb3JkZXJzLmNzdiJd:1r31eq:Us5-hRlBafPGLTJJvApoOvFT3jlBkEKfrchCJp0KVPk",
      0, OS_TOKEN_REFUSED, NULL, NULL },
    { "a string",
      "Ii9teS9vcmRlcnMuY3N2Ig:1r31eq:QgYfmtT-6zduh9DuMgsIEl-zE6fQqZ0CSyin2XddvIw",
      0, OS_TOKEN_REFUSED, NULL, NULL },
    { "fractional claim",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiIsIngiOjEuNX0:1r31eq:5Pu-XKIK68Quw_U6ID8okJNNL-ilTVJ947H4X9Fg8Sc",
      0, OS_TOKEN_REFUSED, NULL, NULL },
    { "another export",
      "eyJleHBvcnQiOiIvbXkvb3RoZXIuY3N2In0:1r31eq:AMYBhHK-ax5zdGym5gOqNmqYxnOjsxgN_4xgo48LkDU",
      0, OS_TOKEN_REFUSED, NULL, NULL },
    { "no export",
      "eyJlbWFpbCI6ImFubkBleGFtcGxlLmNvbSJ9:1r31eq:LzNQnn3gKSNpJG-IBkp1gyvwGYpIooBmPGDvS9ro_qM",
      0, OS_TOKEN_REFUSED, NULL, NULL },
    { "export not a string",
      "eyJleHBvcnQiOjF9:1r31eq:bp0Rjthf4-P5wtozvp91j9g2o53Sc8oGgowFKG75oWs",
      0, OS_TOKEN_REFUSED, NULL, NULL },
    { "61 s ahead",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiJ9:1r31fp:HuDw9eoaZWw1S9GKMUOQdeOb61opCocFU64xiZ6B_d4",
      0, OS_TOKEN_REFUSED, NULL, NULL },
    { "60 s ahead",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiJ9:1r31fo:2xm6kou55yJIjCYQSjal68GchQ0ln50Xre-Noh8FUPk",
      0, OS_TOKEN_VALID, NULL, NULL },
    { "max_age claim, within",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiIsIm1heF9hZ2UiOjV9:1r31eq:Tc0Ye3IJdCPn8KwLSopo-A1uF28n6wntGJMJ1kDwKiE",
      5, OS_TOKEN_VALID, NULL, NULL },
    { "max_age claim, past",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiIsIm1heF9hZ2UiOjV9:1r31eq:Tc0Ye3IJdCPn8KwLSopo-A1uF28n6wntGJMJ1kDwKiE",
      6, OS_TOKEN_EXPIRED, NULL, NULL },
    { "max_age claim cannot lengthen",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiIsIm1heF9hZ2UiOjYwMH0:1r31eq:ImZT7hdxqPzIGUE82bNqJVMFGgKpflmPMvSha9jm54s",
      61, OS_TOKEN_EXPIRED, NULL, NULL },
    { "max_age claim not an integer",
      "eyJleHBvcnQiOiIvbXkvb3JkZXJzLmNzdiIsIm1heF9hZ2UiOiI1In0:1r31eq:strsMnLZhhIG4raAsvzHEPEzewud_FuHEqZ7RzcTMpw",
      0, OS_TOKEN_REFUSED, NULL, NULL },
};
