# language: fr
Fonctionnalité: Erreurs explicites, exploitables par programme
  Toute demande refusée reçoit un code de statut explicite et une description de l'erreur au format
  problem+json (RFC 9457) dont le « code » est stable : le système de l'ASP peut la traiter sans
  intervention humaine.

  Contexte:
    Étant donné le titulaire est joignable par l'ASP
    Et un dossier "RECETTE-ERREURS" à l'itération 1

  Plan du scénario: Le titulaire refuse la demande : <cas>
    Quand l'ASP <demande>
    Alors le titulaire répond <statut>
    Et l'erreur est décrite en problem+json avec le code "<code>"

    Exemples:
      | cas                             | demande                                                | statut | code                       |
      | dépôt inconnu                   | consulte un dépôt qui n'existe pas                     | 404    | depot-inconnu              |
      | identifiant mal formé           | consulte un dépôt avec un identifiant mal formé        | 400    | parametre-invalide         |
      | type de contenu non supporté    | envoie un document JSON au lieu d'un formulaire multipart | 415 | type-media-non-supporte    |
      | métadonnées invalides           | dépose une pièce avec un numéro d'itération à zéro     | 422    | metadonnees-invalides      |
      | document manquant               | dépose des métadonnées sans aucun document             | 400    | requete-invalide           |
      | jeton d'accès absent            | dépose une pièce sans jeton d'accès                    | 401    | authentification-requise   |
      | clé d'idempotence réutilisée    | réutilise une clé d'idempotence pour un autre contenu  | 409    | cle-idempotence-reutilisee |

    # Le client en lecture seule est un second client de notre fournisseur d'identité.
    @reference
    Exemples: droits
      | cas                             | demande                                                | statut | code                       |
      | droits insuffisants             | dépose une pièce avec un client autorisé en lecture seule | 403 | droits-insuffisants        |
