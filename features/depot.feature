# language: fr
Fonctionnalité: Dépôt de pièces en mode API
  Chaque dépôt reçoit un code de statut explicite et un identifiant unique généré par le titulaire,
  qui permet de rapprocher le dépôt de son retour.

  Contexte:
    Étant donné le titulaire est joignable par l'ASP

  Scénario: Un dépôt initial est reçu et identifié
    Étant donné un dossier "RECETTE-FACTURES" à l'itération 1
    Quand l'ASP dépose la pièce "avis.pdf"
    Alors le titulaire accuse réception avec un identifiant unique de dépôt
    Et l'ASP reçoit exactement un retour fidèle au dépôt
