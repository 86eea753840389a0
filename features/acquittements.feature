# language: fr
Fonctionnalité: Accusés de réception dans les deux sens
  Le titulaire accuse réception de chaque dépôt de l'ASP ; l'ASP acquitte chaque retour du titulaire,
  et le titulaire garde trace de cet acquittement dans l'état du dépôt.

  Contexte:
    Étant donné le titulaire est joignable par l'ASP
    Et un dossier "RECETTE-ACQUITTEMENTS" à l'itération 1

  Scénario: Le titulaire accuse réception du dépôt et l'ASP acquitte son retour
    Quand l'ASP dépose les pièces "avis.pdf" et "rib.pdf"
    Alors le titulaire accuse réception avec un identifiant unique de dépôt
    Et l'accusé de réception indique la taille reçue et l'empreinte des documents déposés
    Et l'ASP reçoit exactement un retour pour le dépôt
    Et l'ASP acquitte ce retour
    Et le titulaire enregistre l'acquittement de l'ASP dans l'état du dépôt
