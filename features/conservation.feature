# language: fr
Fonctionnalité: Conservation des résultats et retransmission
  Le titulaire conserve les résultats trois mois (par défaut) et retransmet sur demande le même retour
  pendant cette période ; au-delà, le dépôt est expiré. Un environnement de recette peut publier une
  conservation courte (dureeEnRecette de son contrat de service) : l'expiration est alors observée pendant
  l'exécution, sinon elle est une réserve.

  Contexte:
    Étant donné le titulaire est joignable par l'ASP
    Et un dossier "RECETTE-CONSERVATION" à l'itération 1
    Et l'ASP a déposé la pièce "avis.pdf" et reçu son retour unique

  Scénario: Pendant la conservation, une retransmission renvoie le même retour
    Quand l'ASP demande la retransmission du retour
    Alors le titulaire accepte de retransmettre le même retour
    Et l'ASP reçoit de nouveau le même retour, reconnu comme une nouvelle livraison sans violation
    Et le titulaire conserve le résultat au moins 3 mois

  Scénario: Passé la durée de conservation, le dépôt est expiré
    Quand la durée de conservation est dépassée
    Alors la consultation du dépôt répond qu'il a expiré
    Et la retransmission du retour répond que le dépôt a expiré
