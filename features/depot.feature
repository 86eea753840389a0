# language: fr
Fonctionnalité: Dépôt de pièces en mode API
  Chaque dépôt reçoit un code de statut explicite et un identifiant unique généré par le titulaire,
  qui permet de rapprocher le dépôt de son retour.

  Contexte:
    Étant donné le titulaire est joignable par l'ASP
    Et un dossier "RECETTE-FACTURES" à l'itération 1

  Scénario: Un dépôt initial est reçu et identifié
    Quand l'ASP dépose la pièce "avis.pdf"
    Alors le titulaire accuse réception avec un identifiant unique de dépôt
    Et l'ASP reçoit exactement un retour fidèle au dépôt

  Scénario: Deux dépôts reçoivent chacun leur propre identifiant
    Quand l'ASP dépose la pièce "avis.pdf"
    Et l'ASP dépose la pièce "rib.pdf"
    Alors chaque dépôt reçoit son propre identifiant

  Scénario: L'identifiant du dépôt permet d'en suivre l'état
    Quand l'ASP dépose la pièce "avis.pdf"
    Et l'ASP consulte l'état du dépôt
    Alors l'état du dépôt rappelle son identifiant et ses métadonnées

  Scénario: Un dépôt rejoué avec la même clé d'idempotence n'est pas dupliqué
    Quand l'ASP dépose la pièce "avis.pdf" avec une clé d'idempotence
    Et l'ASP rejoue ce dépôt à l'identique avec la même clé d'idempotence
    Alors le titulaire renvoie le même accusé de réception sans créer de second dépôt
    Et l'ASP reçoit exactement un retour fidèle au dépôt
